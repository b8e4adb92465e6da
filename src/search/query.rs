//! One search against the index: the filters as a bitmap, free text as bitmaps of words,
//! the matches counted and faceted exactly, and the page chosen by its sort key after the
//! cursor's position.

use std::borrow::Cow;

use roaring::{MultiOps, RoaringBitmap};
use serde_json::Value;

use super::bbox::BBox;
use super::facets::facets;
use super::geo::{Distances, Reach, bitmap_of, docs_of, online, within};
use super::grid::Envelope;
use super::index::{DocId, Field, Flag, Index, Kind, Order};
use super::lexicon::Lexicon;
pub use super::page::Position;
use super::page::{in_order, smallest};
use super::params::{SearchParams, Sort};
use super::relevance::{match_text, relevance_page};
use crate::domain::GeoPoint;
use crate::domain::vocab::Vocabulary;
use crate::error::FieldCode;
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::http::language::Lang;

/// A search's page and counts, before the page's rows are read.
pub struct Answer {
    /// At most `limit + 1` documents (one more tells that there is a next page), in order.
    pub page: Vec<Hit>,
    pub total: u64,
    pub facets: Value,
    pub words_used: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy)]
pub struct Hit {
    pub doc: DocId,
    pub listing: uuid::Uuid,
    pub position: Position,
    pub distance_km: Option<f64>,
    /// `[lat, lng]` of the office nearest to `near`, else of the first office.
    pub point: Option<[f64; 2]>,
}

/// Taxonomy filters as term ids; an unknown or retired slug is 422 naming it.
fn resolve(index: &Index, kind: Kind, param: &str, slugs: &[String]) -> Result<Vec<i32>, ApiError> {
    let table = match kind {
        Kind::Modality | Kind::Certified => "modality",
        Kind::Specialty => "specialty",
        Kind::Insurer => "insurer",
    };
    slugs
        .iter()
        .map(|slug| {
            index
                .taxonomy
                .terms(kind)
                .iter()
                .find(|t| t.slug == *slug && !t.retired)
                .map(|t| t.id)
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::ValidationFailed,
                        format!("{param}: unknown {table} `{slug}`"),
                    )
                    .with_errors(vec![FieldError::new(
                        param,
                        FieldCode::UnknownTerm,
                        format!("`{slug}` is not a known {table}"),
                    )])
                })
        })
        .collect()
}

/// The documents having any of `bitmaps`: the one bitmap itself when there is one.
fn any<'a>(bitmaps: impl IntoIterator<Item = Option<&'a RoaringBitmap>>) -> Cow<'a, RoaringBitmap> {
    let mut found: Vec<&RoaringBitmap> = bitmaps.into_iter().flatten().collect();
    match found.len() {
        1 => Cow::Borrowed(found.remove(0)),
        _ => Cow::Owned(found.union()),
    }
}

/// The documents with an office inside `bbox` (edges included).
fn in_box(index: &Index, bbox: &BBox) -> RoaringBitmap {
    let mut docs: Vec<DocId> = Vec::new();
    for (west, east) in bbox.spans() {
        let envelope = Envelope {
            south: bbox.south,
            west,
            north: bbox.north,
            east,
        };
        docs.extend(index.offices.in_box(envelope).map(|office| office.doc));
    }
    bitmap_of(docs)
}

/// Where an item is on a map: its office nearest to `near`, else its first office inside
/// `bbox`, else its first office.
fn map_point(index: &Index, doc: DocId, p: &SearchParams) -> Option<[f64; 2]> {
    let points = index.office_points(doc);
    let Some(near) = &p.near else {
        let inside = |point: &&[f64; 2]| p.bbox.is_some_and(|b| b.contains(point[0], point[1]));
        return points.iter().find(inside).or(points.first()).copied();
    };
    let km = |p: &[f64; 2]| {
        GeoPoint {
            latitude: p[0],
            longitude: p[1],
        }
        .distance_km(&near.point)
    };
    points
        .iter()
        .min_by(|a, b| km(a).total_cmp(&km(b)))
        .copied()
}

/// Every document the filters (all but `q`) let through, and the distances with `near`.
fn filtered(
    index: &Index,
    p: &SearchParams,
) -> Result<(RoaringBitmap, Option<Distances>), ApiError> {
    // Each filter narrows to a set, and they are intersected in the order below, so a
    // search costs what its narrowest filter holds rather than what the whole index holds.
    let mut narrowing: Vec<Cow<'_, RoaringBitmap>> = Vec::new();
    let mut excluded: Vec<&RoaringBitmap> = Vec::new();
    for (kind, param, slugs) in [
        (Kind::Modality, "modality", &p.modalities[..]),
        (Kind::Specialty, "specialty", &p.specialties[..]),
        (Kind::Insurer, "insurer", &p.insurers[..]),
        (Kind::Certified, "certified_in", p.certified_in.as_slice()),
    ] {
        if !slugs.is_empty() {
            let ids = resolve(index, kind, param, slugs)?;
            narrowing.push(any(ids.iter().map(|id| index.term(kind, *id))));
        }
    }
    // Values within a field are alternatives; fields narrow one another.
    fn names<V: Vocabulary>(values: &[V]) -> Vec<&'static str> {
        values.iter().map(|v| v.as_str()).collect()
    }
    let fields: [(Field, Vec<&str>); 9] = [
        (
            Field::Language,
            p.languages.iter().map(String::as_str).collect(),
        ),
        (Field::Delivery, names(&p.delivery)),
        (Field::SessionFormat, names(&p.session_formats)),
        (Field::State, p.state.into_iter().collect()),
        (Field::AgeGroup, names(p.age_group.as_slice())),
        (Field::Community, names(p.community.as_slice())),
        (Field::OfferingKind, names(p.offering.as_slice())),
        (Field::Gender, names(p.gender.as_slice())),
        (Field::Faith, names(p.faith.as_slice())),
    ];
    for (field, values) in fields {
        if !values.is_empty() {
            narrowing.push(any(values.into_iter().map(|v| index.value(field, v))));
        }
    }
    for (wanted, flag) in [
        (p.accepting, Flag::Accepting),
        (p.free_consultation, Flag::FreeConsultation),
        (p.sliding_scale, Flag::SlidingScale),
        (p.license_verified, Flag::LicenseVerified),
    ] {
        match wanted {
            Some(true) => narrowing.push(Cow::Borrowed(index.flag(flag))),
            Some(false) => excluded.push(index.flag(flag)),
            None => {}
        }
    }
    let online = p.near.as_ref().and_then(|near| online(index, near));
    if let Some(max) = p.max_fee_cents {
        narrowing.push(Cow::Owned(index.fee_at_most(max)));
    }
    if let Some(bbox) = &p.bbox {
        narrowing.push(Cow::Owned(in_box(index, bbox)));
    }
    let mut reach = None;
    let mut distances = None;
    if let Some(near) = &p.near {
        // With no other filter, every document in reach is measured anyway: measured
        // first, only those within the circle narrow the search.
        let docs = if narrowing.is_empty() {
            let found = within(index, near);
            let docs = docs_of(&found);
            distances = Some(found);
            docs
        } else {
            reach.insert(Reach::of(index, near)).docs()
        };
        narrowing.push(Cow::Owned(match online {
            Some(online) => docs | online,
            None => docs,
        }));
    }
    // Roaring holds 65,536 documents as a bitmap above 4,096 of them, as a sorted array
    // below, and tests an array element by element against each later set. So sets that
    // are all mostly bitmaps go largest first, keeping the running result a bitmap the
    // longest; otherwise smallest first, so that a step costs what the narrowest holds.
    narrowing.sort_by_key(|b| b.len());
    let all_dense = narrowing
        .first()
        .is_some_and(|b| b.len() * 16 >= index.len());
    if all_dense {
        narrowing.reverse();
    }
    let visible = index.visible(p.include_stale);
    let mut f = match narrowing.split_first() {
        Some((narrowest, rest)) => {
            let mut f = narrowest.as_ref() & visible;
            for b in rest {
                f &= b.as_ref();
            }
            f
        }
        None => visible.clone(),
    };
    for b in excluded {
        f -= b;
    }
    if let (Some(near), Some(reach)) = (&p.near, &mut reach) {
        distances = Some(reach.measure_among(near, &mut f, online));
    }
    Ok((f, distances))
}

/// Runs `p` against the index. `after` is the cursor's position in this search's order.
pub fn run(
    index: &Index,
    lexicon: &Lexicon,
    p: &SearchParams,
    sort: Sort,
    after: Option<Position>,
    limit: usize,
) -> Result<Answer, ApiError> {
    let (filtered, distances) = filtered(index, p)?;
    let text =
        p.q.as_deref()
            .map(|q| match_text(index, lexicon, q, &filtered));
    let matched = text.as_ref().map_or(&filtered, |t| &t.matched);
    let distance_of = |doc: DocId| -> Option<f64> {
        let d = distances.as_ref()?;
        d.binary_search_by_key(&doc, |(doc, _)| *doc)
            .ok()
            .map(|i| d[i].1)
    };
    let id = |doc: DocId| index.listing[doc as usize];
    let want = limit + 1;
    let page = match sort {
        Sort::Relevance => text
            .as_ref()
            .map(|t| relevance_page(index, t, after, want))
            .unwrap_or_default(),
        Sort::Distance => {
            // Listings with an office in the radius, read from the distances (sorted by
            // listing), then the online-only ones, which have no distance and come last.
            let near = distances.as_deref().unwrap_or(&[]);
            let with_office = near
                .iter()
                .filter(|(doc, _)| matched.contains(*doc))
                .map(|&(doc, km)| (doc, ((km * 1e6).round() as i64, id(doc))));
            let office_docs = RoaringBitmap::from_sorted_iter(near.iter().map(|(doc, _)| *doc))
                .unwrap_or_default();
            let online = matched - &office_docs;
            smallest(
                with_office.chain(online.iter().map(|doc| (doc, (i64::MAX, id(doc))))),
                after,
                want,
            )
        }
        Sort::Fee => in_order(index, matched, Order::Fee, after, want),
        Sort::RecentlyConfirmed => in_order(index, matched, Order::Confirmed, after, want),
    };
    Ok(Answer {
        page: page
            .into_iter()
            .map(|(position, doc)| Hit {
                doc,
                listing: index.uuid(doc),
                position,
                distance_km: distance_of(doc),
                point: map_point(index, doc, p),
            })
            .collect(),
        total: matched.len(),
        facets: facets(index, &p.facets, matched, p.lang == Lang::Es),
        words_used: text.map(|t| t.used),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::fixtures::index_of;
    use crate::search::index::{Entry, Order};
    use crate::search::params::Near;
    use crate::search::relevance::{points, rank_key};

    /// Every office within the radius is found, wherever the circle is: at the edge of a
    /// small one, across the antimeridian, over a pole.
    #[test]
    fn the_radius_finds_every_office_within_it() {
        use rand::rngs::StdRng;
        use rand::{Rng, SeedableRng};
        let mut rng = StdRng::seed_from_u64(11);
        let wrap = |lng: f64| (lng + 540.0).rem_euclid(360.0) - 180.0;
        let mut centres = vec![
            (35.7796, -78.6382, 5.0),
            (51.88, -176.65, 500.0),
            (52.0, 179.9, 300.0),
            (89.9, 0.0, 100.0),
            (-89.5, 45.0, 200.0),
        ];
        for _ in 0..200 {
            let lat = rng.random_range(-89.9..89.9);
            centres.push((
                lat,
                rng.random_range(-180.0..180.0),
                rng.random_range(0.5..500.0),
            ));
        }
        for (lat, lng, radius_km) in centres {
            let near = Near {
                point: GeoPoint {
                    latitude: lat,
                    longitude: lng,
                },
                state: None,
                radius_km,
            };
            let span = 2.5 * radius_km / 111.0;
            let mut offices: Vec<(f64, f64)> = (0..60)
                .map(|_| {
                    let olat: f64 = (lat + rng.random_range(-span..span)).clamp(-90.0, 90.0);
                    let stretch = span / olat.to_radians().cos().max(0.02);
                    (
                        olat,
                        wrap(lng + rng.random_range(-stretch..stretch).clamp(-180.0, 180.0)),
                    )
                })
                .collect();
            // Due east at 99.97% of the radius (where the parallel gets that far): the edge a
            // box drawn too narrow misses.
            let east = |step: f64| {
                near.point.distance_km(&GeoPoint {
                    latitude: lat,
                    longitude: wrap(lng + step),
                })
            };
            let target = 0.9997 * radius_km;
            if east(180.0) >= target {
                let (mut low, mut high) = (0.0, 180.0);
                for _ in 0..60 {
                    let mid = (low + high) / 2.0;
                    if east(mid) < target {
                        low = mid
                    } else {
                        high = mid
                    }
                }
                offices.push((lat, wrap(lng + high)));
            }
            let entries: Vec<Entry> = offices
                .iter()
                .map(|&office| Entry {
                    listing_id: uuid::Uuid::now_v7(),
                    offices: vec![office],
                    ..Entry::default()
                })
                .collect();
            let expected: Vec<u128> = entries
                .iter()
                .filter(|e| {
                    let (olat, olng) = e.offices[0];
                    near.point.distance_km(&GeoPoint {
                        latitude: olat,
                        longitude: olng,
                    }) <= radius_km
                })
                .map(|e| e.listing_id.as_u128())
                .collect();
            let (index, _) = index_of(entries);
            let mut found: Vec<u128> = within(&index, &near)
                .iter()
                .map(|(doc, _)| index.listing[*doc as usize])
                .collect();
            let mut expected = expected;
            found.sort_unstable();
            expected.sort_unstable();
            assert!(!expected.is_empty());
            assert_eq!(found, expected, "near {lat},{lng} within {radius_km} km");
        }
    }

    /// A radius search keeps what its filters let through that has an office within the
    /// radius or is an online listing of the state, with the distance to its nearest
    /// office there, however many of its offices lie in the boxes' corners.
    #[test]
    fn a_radius_search_keeps_the_filtered_listings_within_it() {
        use rand::rngs::StdRng;
        use rand::{Rng, SeedableRng};
        let mut rng = StdRng::seed_from_u64(29);
        let point = |latitude, longitude| GeoPoint {
            latitude,
            longitude,
        };
        let near = Near {
            point: point(40.0, -75.0),
            state: Some("PA"),
            radius_km: 20.0,
        };
        let entries: Vec<Entry> = (0..400)
            .map(|_| {
                let offices = (0..rng.random_range(0..4))
                    .map(|_| {
                        (
                            40.0 + rng.random_range(-0.4..0.4),
                            -75.0 + rng.random_range(-0.5..0.5),
                        )
                    })
                    .collect();
                let state = if rng.random_bool(0.5) { "PA" } else { "NJ" };
                Entry {
                    listing_id: uuid::Uuid::now_v7(),
                    accepting: rng.random_bool(0.5),
                    delivery: vec!["video".into()],
                    telehealth_states: vec![state.into()],
                    offices,
                    ..Entry::default()
                }
            })
            .collect();
        let (index, _) = index_of(entries.clone());
        for accepting in [None, Some(true)] {
            let p = SearchParams {
                near: Some(near),
                accepting,
                ..SearchParams::default()
            };
            let (f, distances) = filtered(&index, &p).unwrap();
            let mut expected: Vec<(u128, Option<f64>)> = entries
                .iter()
                .filter(|e| accepting.is_none_or(|a| e.accepting == a))
                .filter_map(|e| {
                    let km = e
                        .offices
                        .iter()
                        .map(|&(lat, lng)| point(lat, lng).distance_km(&near.point))
                        .filter(|km| *km <= near.radius_km)
                        .min_by(f64::total_cmp);
                    let online = e.offices.is_empty() && e.telehealth_states[0] == "PA";
                    (km.is_some() || online).then_some((e.listing_id.as_u128(), km))
                })
                .collect();
            let distances = distances.unwrap();
            let km_of = |doc| distances.iter().find(|(d, _)| *d == doc).map(|(_, km)| *km);
            let mut found: Vec<(u128, Option<f64>)> = f
                .iter()
                .map(|doc| (index.listing[doc as usize], km_of(doc)))
                .collect();
            found.sort_by_key(|(id, _)| *id);
            expected.sort_by_key(|(id, _)| *id);
            assert!(expected.iter().any(|(_, km)| km.is_none()));
            assert!(expected.len() < entries.len() / 2);
            assert_eq!(found, expected, "accepting {accepting:?}");
            assert_eq!(
                distances.len(),
                f.len() as usize - expected.iter().filter(|(_, km)| km.is_none()).count()
            );
        }
    }

    /// Pages walked by cursor equal every match ranked at once, for every sort, on random
    /// listings: the bucketed relevance and the ordered walks find what ranking all would.
    #[test]
    fn pages_in_order_equal_every_match_ranked() {
        use rand::rngs::StdRng;
        use rand::{Rng, SeedableRng};
        let words = [
            "anxiety", "grief", "couples", "teens", "brooklyn", "spanish", "trauma",
        ];
        let mut rng = StdRng::seed_from_u64(5);
        let entries: Vec<Entry> = (0..400)
            .map(|i| {
                let pick = |rng: &mut StdRng, n: usize| {
                    (0..n)
                        .map(|_| words[rng.random_range(0..words.len())])
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                Entry {
                    listing_id: uuid::Uuid::from_u128(rng.random()),
                    display_name: format!("Person {} {}", i % 7, pick(&mut rng, 1)),
                    professional_title: Some(pick(&mut rng, 2)),
                    statement: pick(&mut rng, 4),
                    fee_floor_cents: rng.random_bool(0.9).then(|| rng.random_range(50..90) * 100),
                    last_confirmed_at: rng.random_bool(0.9).then(|| {
                        time::OffsetDateTime::from_unix_timestamp(
                            1_700_000_000 + rng.random_range(0..50) * 86_400,
                        )
                        .unwrap()
                    }),
                    modality_ids: if rng.random_bool(0.3) {
                        vec![1]
                    } else {
                        vec![]
                    },
                    ..Entry::default()
                }
            })
            .collect();
        let (mut index, _) = index_of(entries.clone());
        // Churn: some listings replaced, some removed, so slots are reused.
        let gone: Vec<uuid::Uuid> = entries.iter().step_by(9).map(|e| e.listing_id).collect();
        let changed: Vec<Entry> = entries
            .iter()
            .step_by(7)
            .filter(|e| !gone.contains(&e.listing_id))
            .map(|e| Entry {
                statement: "grief grief".into(),
                ..e.clone()
            })
            .collect();
        index.apply(changed, &gone);
        let mut lexicon = Lexicon::build(&index.taxonomy);
        lexicon.refresh_known(&index);
        for query in [
            "q=anxiety",
            "q=grief+couples",
            "q=person+3+teens",
            "q=emdr+trauma+zebra",
            "q=brooklyn+spanish+anxiety+grief",
            "q=brooklyn+spanish+anxiety+grief+couples+teens",
            "q=anxiety+zebra+grief+yak+couples+trauma+teens+spanish",
            "q=grief+anxiety+grief+trauma+brooklyn",
            "sort=fee",
            "sort=recently_confirmed",
            "q=couples&sort=fee",
            "q=therapist",
        ] {
            let p = SearchParams::parse(query).unwrap();
            let sort = p.effective_sort();
            // Every match ranked at once, straight from the definitions.
            let (filtered, _) = filtered(&index, &p).unwrap();
            let mut everything: Vec<(Position, uuid::Uuid)> = match (&p.q, sort) {
                (Some(q), Sort::Relevance) => {
                    let t = match_text(&index, &lexicon, q, &filtered);
                    t.matched
                        .iter()
                        .map(|doc| {
                            let exact = !t.used_matches.is_empty()
                                && index.name_key[doc as usize] == t.name
                                && t.used_matches.iter().all(|m| m.names.contains(doc));
                            let (words, weight) = points(&t, doc);
                            let (confirmed, tie) = index.position(Order::Confirmed, doc);
                            (
                                (rank_key(exact, words, weight, confirmed), tie),
                                index.uuid(doc),
                            )
                        })
                        .collect()
                }
                (q, _) => {
                    let matched = match q {
                        Some(q) => match_text(&index, &lexicon, q, &filtered).matched,
                        None => filtered,
                    };
                    let order = if sort == Sort::Fee {
                        Order::Fee
                    } else {
                        Order::Confirmed
                    };
                    matched
                        .iter()
                        .map(|doc| (index.position(order, doc), index.uuid(doc)))
                        .collect()
                }
            };
            everything.sort();
            let mut walked = Vec::new();
            let mut after = None;
            loop {
                let page = run(&index, &lexicon, &p, sort, after, 3).unwrap();
                walked.extend(page.page.iter().take(3).map(|h| (h.position, h.listing)));
                if page.page.len() <= 3 {
                    break;
                }
                after = Some(page.page[2].position);
            }
            assert!(!everything.is_empty(), "{query}");
            assert_eq!(walked, everything, "{query}");
        }
    }
}
