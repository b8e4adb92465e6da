//! The offices by band of latitude, each band sorted by longitude: the offices inside a box
//! are one run of each band the box crosses, found by two binary searches and read in
//! memory order. An R-tree reaches the same offices through a node per handful of them, a
//! pointer to follow each, and that walk was the larger part of a radius search's CPU
//! (docs/search.md, "Offices by band").
//!
//! A batch of changes appends its offices to their bands unsorted; `settle` sorts the bands
//! it touched once the batch is in, so that a build of a million listings does not move a
//! band's tail for every office it adds.
//!
//! Offices are of documents addressed by their number in the index (`index::DocId`); the
//! grid is below the index and knows nothing else of it.

/// A document's number in the index.
type DocId = u32;

/// A band's height in degrees, about 11 km: a box of a 10 km radius crosses three bands and
/// one of 80 km about fifteen, and the offices a box reads beyond its own latitudes are at
/// most a band's at each edge.
const BAND_DEGREES: f64 = 0.1;
const BANDS: usize = (180.0 / BAND_DEGREES) as usize;

/// An office: `[lat, lng]` and its document.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Office {
    pub point: [f64; 2],
    pub doc: DocId,
}

/// A box from `south` to `north` and from `west` to `east`, edges included; `west` is not
/// east of `east` (a box across the antimeridian is two).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Envelope {
    pub south: f64,
    pub west: f64,
    pub north: f64,
    pub east: f64,
}

#[derive(Default)]
pub struct Grid {
    bands: Vec<Vec<Office>>,
    /// Bands with offices appended since the last `settle`.
    unsorted: Vec<usize>,
}

/// The band of latitude `lat` (a latitude outside ±90 falls in the last band its side).
/// Monotonic, so a box's bands are those from its south's to its north's.
fn band(lat: f64) -> usize {
    (((lat + 90.0) / BAND_DEGREES).max(0.0) as usize).min(BANDS - 1)
}

fn by_longitude(a: &Office, b: &Office) -> std::cmp::Ordering {
    a.point[1].total_cmp(&b.point[1])
}

impl Grid {
    /// A grid of `offices`, in any order.
    pub fn bulk_load(mut offices: Vec<Office>) -> Grid {
        offices.sort_unstable_by(|a, b| {
            band(a.point[0])
                .cmp(&band(b.point[0]))
                .then_with(|| by_longitude(a, b))
        });
        let mut grid = Grid {
            bands: vec![Vec::new(); BANDS],
            unsorted: Vec::new(),
        };
        for run in offices.chunk_by(|a, b| band(a.point[0]) == band(b.point[0])) {
            grid.bands[band(run[0].point[0])] = run.to_vec();
        }
        grid
    }

    pub fn len(&self) -> usize {
        self.bands.iter().map(Vec::len).sum()
    }

    /// Adds `office`; it is found once `settle` has run.
    pub fn insert(&mut self, office: Office) {
        if self.bands.is_empty() {
            self.bands.resize(BANDS, Vec::new());
        }
        let b = band(office.point[0]);
        let list = &mut self.bands[b];
        if list
            .last()
            .is_some_and(|last| by_longitude(last, &office).is_gt())
            && !self.unsorted.contains(&b)
        {
            self.unsorted.push(b);
        }
        list.push(office);
    }

    /// Takes out one office equal to `office`, if there is one; on a settled grid.
    pub fn remove(&mut self, office: &Office) -> bool {
        let Some(list) = self.bands.get_mut(band(office.point[0])) else {
            return false;
        };
        let from = list.partition_point(|o| by_longitude(o, office).is_lt());
        let Some(at) = list[from..]
            .iter()
            .take_while(|o| by_longitude(o, office).is_eq())
            .position(|o| o == office)
        else {
            return false;
        };
        list.remove(from + at);
        true
    }

    /// Sorts the bands `insert` appended to out of order.
    pub fn settle(&mut self) {
        for b in std::mem::take(&mut self.unsorted) {
            // A stable sort merges the sorted band with its appended tail in one pass.
            self.bands[b].sort_by(by_longitude);
        }
    }

    /// The offices inside `envelope`, band by band; on a settled grid.
    pub fn in_box(&self, envelope: Envelope) -> impl Iterator<Item = &Office> + '_ {
        let Envelope {
            south,
            west,
            north,
            east,
        } = envelope;
        let ordered = south <= north && west <= east;
        let bands = if self.bands.is_empty() || !ordered {
            &[][..]
        } else {
            &self.bands[band(south)..=band(north)]
        };
        bands.iter().flat_map(move |list| {
            let from = list.partition_point(|o| o.point[1] < west);
            let to = from + list[from..].partition_point(|o| o.point[1] <= east);
            list[from..to]
                .iter()
                .filter(move |o| o.point[0] >= south && o.point[0] <= north)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn inside(o: &Office, e: &Envelope) -> bool {
        (e.south..=e.north).contains(&o.point[0]) && (e.west..=e.east).contains(&o.point[1])
    }

    fn found(grid: &Grid, e: Envelope) -> Vec<(u64, u64, DocId)> {
        let mut found: Vec<_> = grid
            .in_box(e)
            .map(|o| (o.point[0].to_bits(), o.point[1].to_bits(), o.doc))
            .collect();
        found.sort_unstable();
        found
    }

    fn expected(offices: &[Office], e: Envelope) -> Vec<(u64, u64, DocId)> {
        let mut expected: Vec<_> = offices
            .iter()
            .filter(|o| inside(o, &e))
            .map(|o| (o.point[0].to_bits(), o.point[1].to_bits(), o.doc))
            .collect();
        expected.sort_unstable();
        expected
    }

    /// Every box finds exactly the offices inside it, edges and poles included, whether the
    /// grid was loaded whole or built office by office with removals between.
    #[test]
    fn a_box_finds_exactly_the_offices_inside_it() {
        let mut rng = StdRng::seed_from_u64(17);
        // Clustered like a city, spread over the globe, on band edges and at the poles.
        let mut offices: Vec<Office> = (0..4000)
            .map(|i| {
                let point = match i % 4 {
                    0 => [
                        40.7 + rng.random_range(-0.3..0.3),
                        -74.0 + rng.random_range(-0.3..0.3),
                    ],
                    1 => [
                        rng.random_range(-90.0..=90.0),
                        rng.random_range(-180.0..=180.0),
                    ],
                    2 => [f64::from(rng.random_range(-900..=900)) / 10.0, -74.0],
                    _ => [
                        if i % 8 == 3 { 90.0 } else { -90.0 },
                        rng.random_range(-180.0..180.0),
                    ],
                };
                Office {
                    point,
                    doc: rng.random_range(0..500),
                }
            })
            .collect();
        // The same office twice: one removal takes out one of them.
        offices.push(offices[0]);
        let loaded = Grid::bulk_load(offices.clone());
        let mut built = Grid::default();
        for chunk in offices.chunks(700) {
            for &o in chunk {
                built.insert(o);
            }
            built.settle();
        }
        let mut kept = offices.clone();
        for i in (0..kept.len()).rev().step_by(9) {
            assert!(built.remove(&kept[i]));
            kept.remove(i);
        }
        assert!(!built.remove(&Office {
            point: [1.0, 2.0],
            doc: 7
        }));
        assert_eq!((loaded.len(), built.len()), (offices.len(), kept.len()));
        let mut boxes = vec![
            Envelope {
                south: -90.0,
                west: -180.0,
                north: 90.0,
                east: 180.0,
            },
            Envelope {
                south: 40.7,
                west: -74.0,
                north: 40.7,
                east: -74.0,
            },
            Envelope {
                south: 40.6,
                west: -74.3,
                north: 40.8,
                east: -73.9,
            },
            Envelope {
                south: 89.95,
                west: -180.0,
                north: 90.0,
                east: 180.0,
            },
        ];
        for _ in 0..300 {
            let (lat, lng) = (
                rng.random_range(-90.0..90.0),
                rng.random_range(-180.0..180.0),
            );
            let (h, w): (f64, f64) = (rng.random_range(0.0..3.0), rng.random_range(0.0..5.0));
            boxes.push(Envelope {
                south: (lat - h).max(-90.0),
                west: (lng - w).max(-180.0),
                north: (lat + h).min(90.0),
                east: (lng + w).min(180.0),
            });
        }
        // Boxes whose edges are offices' own coordinates.
        for o in offices.iter().step_by(97) {
            let [lat, lng] = o.point;
            boxes.push(Envelope {
                south: lat,
                west: lng,
                north: (lat + 0.2).min(90.0),
                east: (lng + 0.2).min(180.0),
            });
        }
        for e in boxes {
            assert_eq!(found(&loaded, e), expected(&offices, e), "{e:?}");
            assert_eq!(found(&built, e), expected(&kept, e), "{e:?}");
        }
        let turned = Envelope {
            south: 10.0,
            west: 5.0,
            north: -10.0,
            east: 6.0,
        };
        assert_eq!(loaded.in_box(turned).count(), 0);
    }
}
