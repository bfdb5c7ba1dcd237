//! OGR vector layers.
pub struct Feature;
pub enum Geometry {}
pub fn read_layer() {}
