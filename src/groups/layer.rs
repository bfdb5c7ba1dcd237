//! Reading a user polygon layer's feature ids and names (GDAL/OGR), at the edge.

use super::definition::UserGroupSpec;
use super::membership::UserFeature;
use crate::{Error, Result};
use gdal::vector::LayerAccess;
use gdal::Dataset;

/// The id and name of every feature of the first layer of `spec.path`, in the order GDAL
/// reads them: feature `i` here is zone `i` of the rasterised layer (see
/// [`super::user_groups_from_zones`]). A null name falls back to the id; a null id is
/// kept empty and refused later. Fails when the file cannot be opened, has no layer, or
/// lacks one of the two fields (the message lists the fields it has).
pub fn read_user_features(spec: &UserGroupSpec) -> Result<Vec<UserFeature>> {
    let path = &spec.path;
    if !path.exists() {
        return Err(Error::MissingFile {
            path: path.clone(),
            fix: "check `path` in the [[user_layer]] table (relative paths start at the group file's folder)".into(),
        });
    }
    let ds = Dataset::open(path).map_err(|e| Error::gdal(path, e))?;
    if ds.layer_count() == 0 {
        return Err(Error::Invalid {
            path: path.clone(),
            field: "layer".into(),
            message: "the file holds no vector layer; give a polygon layer (GeoJSON, GeoPackage, Shapefile)".into(),
        });
    }
    let mut layer = ds.layer(0).map_err(|e| Error::gdal(path, e))?;
    let field_names: Vec<String> = layer.defn().fields().map(|f| f.name()).collect();
    let index = |want: &str| {
        layer.defn().field_index(want).map_err(|_| Error::Invalid {
            path: path.clone(),
            field: want.to_string(),
            message: format!(
                "the layer has no field `{want}`; its fields are: {}",
                field_names.join(", ")
            ),
        })
    };
    let id_idx = index(&spec.id_field)?;
    let name_idx = index(&spec.name_field)?;
    let mut out = Vec::new();
    for feature in layer.features() {
        let text = |idx: usize| {
            feature
                .field_as_string(idx)
                .map(|v| v.unwrap_or_default().trim().to_string())
                .map_err(|e| Error::gdal(path, e))
        };
        let id = text(id_idx)?;
        let name = text(name_idx)?;
        let name = if name.is_empty() { id.clone() } else { name };
        out.push(UserFeature { id, name });
    }
    Ok(out)
}
