//! Terrain analysis kernels.
