//! See the module list in `flood`.
