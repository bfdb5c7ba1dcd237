//! Connectivity and redundancy of lifeline networks after damage.
//!
//! A node is *served* when a path of working nodes and links of its own lifeline joins
//! it to a working supply source (breadth-first search on a petgraph graph). The
//! *redundancy* of a spatial group for a lifeline is the number of edge-disjoint paths
//! from the sources outside the group into the group's nodes, plus the working sources
//! inside it: the maximum flow with unit link capacities (each undirected link one unit
//! either way) from a super-source joined to those sources to a super-sink joined from
//! the group's nodes (Menger's theorem), found with Edmonds–Karp.
//!
//! # Reference
//! Edmonds, J. and Karp, R. M. (1972), Theoretical improvements in algorithmic
//! efficiency for network flow problems, J. ACM 19(2), 248–264.
//! Menger, K. (1927), Zur allgemeinen Kurventheorie, Fund. Math. 10, 96–115.

use super::network::{LifelineType, Network};
use petgraph::graph::{NodeIndex, UnGraph};
use std::collections::VecDeque;

/// The networks as one undirected petgraph graph: graph node `i` is network node `i`,
/// edge weights are link indices. Links only join nodes of their own lifeline, so the
/// lifelines are separate components of the graph.
#[derive(Debug, Clone)]
pub struct Topology {
    /// The graph.
    pub graph: UnGraph<usize, usize>,
    /// Number of network nodes (components `0..n_nodes` are nodes).
    pub n_nodes: usize,
}

impl Topology {
    /// The graph of a network.
    pub fn new(net: &Network) -> Self {
        let mut graph = UnGraph::with_capacity(net.nodes.len(), net.links.len());
        for i in 0..net.nodes.len() {
            graph.add_node(i);
        }
        for (k, l) in net.links.iter().enumerate() {
            graph.add_edge(NodeIndex::new(l.from), NodeIndex::new(l.to), k);
        }
        Topology {
            graph,
            n_nodes: net.nodes.len(),
        }
    }

    /// Marks in `served` (one flag per node) the nodes that reach a working source of
    /// their lifeline through working nodes and links. `ok[c]` tells whether component
    /// `c` works (nodes first, then links). `queue` is scratch space.
    pub fn served(
        &self,
        net: &Network,
        ok: &[bool],
        served: &mut Vec<bool>,
        queue: &mut VecDeque<usize>,
    ) {
        served.clear();
        served.resize(self.n_nodes, false);
        queue.clear();
        for (i, n) in net.nodes.iter().enumerate() {
            if n.source && ok[i] {
                served[i] = true;
                queue.push_back(i);
            }
        }
        while let Some(v) = queue.pop_front() {
            for e in self.graph.edges(NodeIndex::new(v)) {
                use petgraph::visit::EdgeRef;
                let w = if e.source().index() == v {
                    e.target().index()
                } else {
                    e.source().index()
                };
                if !served[w] && ok[w] && ok[self.n_nodes + *e.weight()] {
                    served[w] = true;
                    queue.push_back(w);
                }
            }
        }
    }

    /// Redundancy of a group for one lifeline: working sources inside the group plus the
    /// number of edge-disjoint paths of working links from working sources outside the
    /// group to the group's working nodes of that lifeline (max-flow, unit capacities,
    /// Edmonds–Karp). `group_nodes` are network node indices; `ok` as in [`Topology::served`].
    pub fn edge_disjoint_paths(
        &self,
        net: &Network,
        lifeline: LifelineType,
        group_nodes: &[usize],
        ok: &[bool],
    ) -> u32 {
        let mut in_group = vec![false; self.n_nodes];
        let mut local = 0u32;
        let mut any = false;
        for &v in group_nodes {
            let n = &net.nodes[v];
            if n.lifeline == lifeline && ok[v] {
                in_group[v] = true;
                any = true;
                if n.source {
                    local += 1;
                }
            }
        }
        if !any {
            return 0;
        }
        // Residual graph: network nodes, then super-source s and super-sink t.
        let (s, t) = (self.n_nodes, self.n_nodes + 1);
        let mut g = Residual::new(self.n_nodes + 2);
        let big = net.links.len() as i32 + 1;
        for (i, n) in net.nodes.iter().enumerate() {
            if n.lifeline != lifeline || !ok[i] {
                continue;
            }
            if in_group[i] {
                g.add_pair(i, t, big, 0);
            } else if n.source {
                g.add_pair(s, i, big, 0);
            }
        }
        for (k, l) in net.links.iter().enumerate() {
            if l.lifeline == lifeline && ok[self.n_nodes + k] && ok[l.from] && ok[l.to] {
                g.add_pair(l.from, l.to, 1, 1);
            }
        }
        local + g.max_flow(s, t)
    }
}

/// A residual graph for Edmonds–Karp: arcs in pairs, arc `a ^ 1` is the reverse of `a`.
struct Residual {
    head: Vec<Vec<usize>>,
    to: Vec<usize>,
    cap: Vec<i32>,
}

impl Residual {
    fn new(n: usize) -> Self {
        Residual {
            head: vec![Vec::new(); n],
            to: Vec::new(),
            cap: Vec::new(),
        }
    }
    /// Arc u→v with capacity `c_uv` and its partner v→u with `c_vu` (0 for a directed
    /// arc, equal to `c_uv` for an undirected link).
    fn add_pair(&mut self, u: usize, v: usize, c_uv: i32, c_vu: i32) {
        self.head[u].push(self.to.len());
        self.to.push(v);
        self.cap.push(c_uv);
        self.head[v].push(self.to.len());
        self.to.push(u);
        self.cap.push(c_vu);
    }
    /// Maximum s–t flow by shortest augmenting paths (BFS).
    fn max_flow(&mut self, s: usize, t: usize) -> u32 {
        let n = self.head.len();
        let mut flow = 0u32;
        let mut pred: Vec<Option<usize>> = vec![None; n];
        let mut queue = VecDeque::new();
        loop {
            pred.iter_mut().for_each(|p| *p = None);
            queue.clear();
            queue.push_back(s);
            let mut found = false;
            'bfs: while let Some(u) = queue.pop_front() {
                for &a in &self.head[u] {
                    let v = self.to[a];
                    if self.cap[a] > 0 && v != s && pred[v].is_none() {
                        pred[v] = Some(a);
                        if v == t {
                            found = true;
                            break 'bfs;
                        }
                        queue.push_back(v);
                    }
                }
            }
            if !found {
                return flow;
            }
            // Bottleneck along the path, then augment.
            let mut bottleneck = i32::MAX;
            let mut v = t;
            while let Some(a) = pred[v] {
                bottleneck = bottleneck.min(self.cap[a]);
                v = self.to[a ^ 1];
            }
            let mut v = t;
            while let Some(a) = pred[v] {
                self.cap[a] -= bottleneck;
                self.cap[a ^ 1] += bottleneck;
                v = self.to[a ^ 1];
            }
            flow += bottleneck as u32;
        }
    }
}
