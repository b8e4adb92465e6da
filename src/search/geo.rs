//! Radius search over the index's R-tree of offices, on the sphere `GeoPoint::distance_km`
//! measures on.

use roaring::RoaringBitmap;
use rstar::AABB;

use super::index::{DocId, Index};
use super::params::Near;
use crate::domain::GeoPoint;

/// `(doc, km to its nearest office)` for the documents with an office within a radius,
/// sorted by doc.
pub type Distances = Vec<(DocId, f64)>;

/// Offices within the radius.
pub fn within(index: &Index, near: &Near) -> Distances {
    let mut found: Distances = offices_within(index, near).collect();
    found.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    found.dedup_by_key(|(doc, _)| *doc);
    found
}

/// The documents with an office within the radius, as a bitmap (for counting).
pub fn within_docs(index: &Index, near: &Near) -> RoaringBitmap {
    bitmap_of(offices_within(index, near).map(|(doc, _)| doc).collect())
}

/// `docs` (in any order, repeats allowed) as a bitmap. Sorted first: inserting in the
/// R-tree's order would move the bitmap's arrays on every insert.
pub fn bitmap_of(mut docs: Vec<DocId>) -> RoaringBitmap {
    docs.sort_unstable();
    docs.dedup();
    RoaringBitmap::from_sorted_iter(docs).unwrap_or_default()
}

/// `(doc, km)` for each office within the radius (a document once per office).
fn offices_within<'a>(index: &'a Index, near: &'a Near) -> impl Iterator<Item = (DocId, f64)> + 'a {
    envelopes(near)
        .into_iter()
        .flat_map(|envelope| index.offices.locate_in_envelope(&envelope))
        .filter_map(|office| {
            let [olat, olng] = *office.geom();
            let d = GeoPoint {
                latitude: olat,
                longitude: olng,
            }
            .distance_km(&near.point);
            (d <= near.radius_km).then_some((office.data, d))
        })
}

/// `[lat, lng]` boxes that hold the whole circle on the sphere `distance_km` measures on:
/// the circle's exact reach in latitude and longitude, a hair wider for rounding; two boxes
/// where it crosses the antimeridian, every longitude where it reaches a pole.
fn envelopes(near: &Near) -> Vec<AABB<[f64; 2]>> {
    const EARTH_RADIUS_KM: f64 = 6371.0088;
    const MARGIN: f64 = 1.000_001;
    let (lat, lng) = (near.point.latitude, near.point.longitude);
    let angle = near.radius_km / EARTH_RADIUS_KM;
    let dlat = angle.to_degrees() * MARGIN;
    let (south, north) = ((lat - dlat).max(-90.0), (lat + dlat).min(90.0));
    if lat.abs() + dlat >= 90.0 {
        return vec![AABB::from_corners([south, -180.0], [north, 180.0])];
    }
    let reach = (angle.sin() / lat.to_radians().cos()).min(1.0);
    let dlng = reach.asin().to_degrees() * MARGIN;
    let (west, east) = (lng - dlng, lng + dlng);
    let mut boxes = vec![AABB::from_corners(
        [south, west.max(-180.0)],
        [north, east.min(180.0)],
    )];
    if west < -180.0 {
        boxes.push(AABB::from_corners([south, west + 360.0], [north, 180.0]));
    }
    if east > 180.0 {
        boxes.push(AABB::from_corners([south, -180.0], [north, east - 360.0]));
    }
    boxes
}
