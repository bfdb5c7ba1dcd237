//! Spatial groups.
