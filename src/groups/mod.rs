//! Spatial groups: the units that the model scores.
//!
//! # How the product reads 韧性空间组团
//!
//! The regional plan (现代化首都都市圈空间协同规划（2023—2035年）, ch. 3 §6 提升空间安全韧性水平,
//! line 529 of the reference text: "构建韧性空间组团，加强组团内应对极端情景战略储备，强化应急条件下
//! 组团间交通联络")
//! asks for resilient spatial groups — clusters that hold strategic reserves for extreme
//! events and keep transport links between each other in an emergency — but does not
//! name them. This product reads them in three ways, all scored alike:
//!
//! 1. **Counties.** Every county-level unit (区, 县, 县级市) in the model domain is a group
//!    of its own (`county-<adcode>`), since counties are the units that hold plans,
//!    budgets and emergency command.
//! 2. **The plan's named areas**, each a list of counties in the plan's own words
//!    (`models/groups/capital_plan.toml`): 北京中心城区, 北京城市副中心, 河北雄安新区,
//!    北京平原新城, 北京生态涵养区, the cross-border areas 通州区与北三县, 通武廊, 房涿涞,
//!    平蓟三兴, 延怀赤 and 怀丰, and the 通勤圈 and 功能圈. Each entry quotes the sentence
//!    of the plan that names it, with its line, and says plainly where the county list
//!    is an approximation: the sub-centre is taken as the whole of 通州; 廊坊's "相关地区"
//!    in 通武廊 as 广阳 and 安次; 雄安 as its three counties without the four towns of
//!    任丘 and 高阳; 亦庄新城 through 大兴 (its part in 通州 stays with the sub-centre).
//!    Where the plan names part of a county — the mountain parts (山区) of
//!    昌平 and 房山 in the ecological conservation area — a per-county elevation rule on
//!    the DEM resampled onto the grid, before conditioning, splits it (at or above
//!    100 m: mountain; below: plain, which
//!    goes to the plain new towns). That 100 m threshold is the product's assumption.
//! 3. **User-defined groups** from any polygon layer (GeoJSON or another format GDAL
//!    reads), one group per feature, named by chosen id and name fields.
//!
//! Groups may overlap: 通州 belongs to five named areas. Each group is tallied and scored
//! on its own, so nothing is double-counted within a group, but the groups' totals do
//! not add up to the region's.
//!
//! # In code
//!
//! [`load_group_file`] reads a group file (serde, unknown keys refused), and
//! [`validate_groups`] checks every county against the model's county table.
//! [`membership_mask`] turns a definition into a cell mask on the county raster (applying
//! elevation rules), [`tally`] counts cells, area and population, [`county_groups`] makes
//! the one-per-county groups, [`read_user_features`] reads a polygon layer's ids and
//! names, [`user_groups_from_zones`] turns the rasterised layer into groups, and
//! [`write_groups_csv`] writes the group table.

mod definition;
mod layer;
mod membership;
mod table;

pub use definition::{
    load_group_file, read_group_file, validate_groups, CountyInfo, CountyRef, GroupDef, GroupFile,
    GroupKind, PlanQuote, UserGroupSpec,
};
pub use layer::read_user_features;
pub use membership::{
    county_groups, membership_mask, missing_counties, tally, user_groups_from_zones, Group,
    GroupTally, UserFeature,
};
pub use table::{read_counties_csv, write_groups_csv, GroupRow};
