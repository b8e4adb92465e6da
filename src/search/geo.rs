//! Radius search over the index's grid of offices, on the sphere `GeoPoint::distance_km`
//! measures on.

use roaring::RoaringBitmap;

use super::grid::Envelope;
use super::index::{DocId, Field, Index};
use super::params::Near;
use crate::domain::GeoPoint;

/// `(doc, km to its nearest office)` for the documents with an office within a radius,
/// sorted by doc.
pub type Distances = Vec<(DocId, f64)>;

/// What a radius search finds besides offices within the radius: the online listings of
/// `near`'s state.
pub fn online<'a>(index: &'a Index, near: &Near) -> Option<&'a RoaringBitmap> {
    index.value(Field::OnlineState, near.state?)
}

/// The documents a radius search finds (before any other filter), as a bitmap (for
/// counting): offices within the radius and the state's online listings.
pub fn found_docs(index: &Index, near: &Near) -> RoaringBitmap {
    let docs = docs_of(&within(index, near));
    match online(index, near) {
        Some(online) => docs | online,
        None => docs,
    }
}

/// `(doc, km to its nearest office)` for every document with an office within the radius,
/// sorted by doc: each office in reach measured as the grid yields it.
pub fn within(index: &Index, near: &Near) -> Distances {
    let mut found: Distances = in_reach(index, near)
        .filter_map(|(doc, point)| {
            let km = km_to(&point, near);
            (km <= near.radius_km).then_some((doc, km))
        })
        .collect();
    found.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    found.dedup_by_key(|(doc, _)| *doc);
    found
}

/// `(doc, [lat, lng])` for each office in the boxes that hold the circle.
fn in_reach<'a>(index: &'a Index, near: &Near) -> impl Iterator<Item = (DocId, [f64; 2])> + 'a {
    envelopes(near)
        .into_iter()
        .flat_map(|envelope| index.offices.in_box(envelope))
        .map(|office| (office.doc, office.point))
}

/// The offices inside the boxes that hold a circle, before any distance is measured: a
/// search with other filters narrows to their documents first and measures only the
/// documents every filter lets through (one without measures them all, `within`).
pub struct Reach {
    /// `(doc, [lat, lng])`, in the grid's order until `measure_among` sorts them.
    offices: Vec<(DocId, [f64; 2])>,
}

impl Reach {
    pub fn of(index: &Index, near: &Near) -> Reach {
        Reach {
            offices: in_reach(index, near).collect(),
        }
    }

    /// The documents with an office in reach: every one within the radius, and some
    /// beyond it in the boxes' corners.
    pub fn docs(&self) -> RoaringBitmap {
        bitmap_of(self.offices.iter().map(|(doc, _)| *doc).collect())
    }

    /// Measures the documents of `f` (which `docs` narrowed), as `within` does, and
    /// takes out of `f` those whose offices are all beyond the radius, unless they are
    /// `online` (online listings of the state, which a radius search also finds).
    pub fn measure_among(
        &mut self,
        near: &Near,
        f: &mut RoaringBitmap,
        online: Option<&RoaringBitmap>,
    ) -> Distances {
        self.offices.sort_unstable_by_key(|(doc, _)| *doc);
        let mut found = Distances::new();
        let mut beyond: Vec<DocId> = Vec::new();
        let mut nearest: Option<(DocId, Option<f64>)> = None;
        let mut keep = |nearest: Option<(DocId, Option<f64>)>| match nearest {
            Some((doc, Some(km))) => found.push((doc, km)),
            Some((doc, None)) => beyond.push(doc),
            None => {}
        };
        // Both are in document order: one walk, skipping the offices of documents `f`
        // leaves out (a step each, cheaper than a lookup in `f` per office).
        let mut measured = f.iter().peekable();
        for &(doc, point) in &self.offices {
            while measured.next_if(|&m| m < doc).is_some() {}
            if measured.peek() != Some(&doc) {
                continue;
            }
            let km = Some(km_to(&point, near)).filter(|km| *km <= near.radius_km);
            match &mut nearest {
                Some((d, best)) if *d == doc => {
                    *best = match (*best, km) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    }
                }
                _ => keep(nearest.replace((doc, km))),
            }
        }
        keep(nearest);
        let mut beyond = RoaringBitmap::from_sorted_iter(beyond).unwrap_or_default();
        if let Some(online) = online {
            beyond -= online;
        }
        *f -= beyond;
        found
    }
}

/// The documents `distances` holds.
pub fn docs_of(distances: &Distances) -> RoaringBitmap {
    RoaringBitmap::from_sorted_iter(distances.iter().map(|(doc, _)| *doc)).unwrap_or_default()
}

fn km_to(&[lat, lng]: &[f64; 2], near: &Near) -> f64 {
    GeoPoint {
        latitude: lat,
        longitude: lng,
    }
    .distance_km(&near.point)
}

/// `docs` (in any order, repeats allowed) as a bitmap. Sorted first: inserting in the
/// grid's order would move the bitmap's arrays on every insert.
pub fn bitmap_of(mut docs: Vec<DocId>) -> RoaringBitmap {
    docs.sort_unstable();
    docs.dedup();
    RoaringBitmap::from_sorted_iter(docs).unwrap_or_default()
}

/// `[lat, lng]` boxes that hold the whole circle on the sphere `distance_km` measures on:
/// the circle's exact reach in latitude and longitude, a hair wider for rounding; two boxes
/// where it crosses the antimeridian, every longitude where it reaches a pole.
fn envelopes(near: &Near) -> Vec<Envelope> {
    const EARTH_RADIUS_KM: f64 = 6371.0088;
    const MARGIN: f64 = 1.000_001;
    let (lat, lng) = (near.point.latitude, near.point.longitude);
    let angle = near.radius_km / EARTH_RADIUS_KM;
    let dlat = angle.to_degrees() * MARGIN;
    let (south, north) = ((lat - dlat).max(-90.0), (lat + dlat).min(90.0));
    if lat.abs() + dlat >= 90.0 {
        return vec![Envelope {
            south,
            west: -180.0,
            north,
            east: 180.0,
        }];
    }
    let reach = (angle.sin() / lat.to_radians().cos()).min(1.0);
    let dlng = reach.asin().to_degrees() * MARGIN;
    let (west, east) = (lng - dlng, lng + dlng);
    let band = |west: f64, east: f64| Envelope {
        south,
        west,
        north,
        east,
    };
    let mut boxes = vec![band(west.max(-180.0), east.min(180.0))];
    if west < -180.0 {
        boxes.push(band(west + 360.0, 180.0));
    }
    if east > 180.0 {
        boxes.push(band(-180.0, east - 360.0));
    }
    boxes
}
