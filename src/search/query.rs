//! One search against the index: the filters as a bitmap, free text as bitmaps of words,
//! the matches counted and faceted exactly, and the page chosen by its sort key after the
//! cursor's position.

use std::collections::{BTreeMap, BinaryHeap};
use std::ops::Bound;

use roaring::{MultiOps, RoaringBitmap};
use rstar::AABB;
use serde_json::{Map, Value, json};

use super::index::{DocId, FacetTag, Field, Flag, Index, Kind, Order, name_key};
use super::lexicon::{Lexicon, Matches};
use super::params::{Facet, Near, SearchParams, Sort};
use super::text;
use crate::domain::GeoPoint;
use crate::domain::vocab::Vocabulary;
use crate::error::{ApiError, ErrorCode, FieldError};

/// At most this many words of `q` are looked up; the rest are ignored.
pub const MAX_QUERY_WORDS: usize = 10;

/// A position in a search's order: the sort key and a tie-breaker, both ascending.
pub type Position = (i64, u128);

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
    pub listing: uuid::Uuid,
    pub position: Position,
    pub distance_km: Option<f64>,
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
                        "unknown_term",
                        format!("`{slug}` is not a known {table}"),
                    )])
                })
        })
        .collect()
}

/// The documents having any of `bitmaps`.
fn any<'a>(bitmaps: impl IntoIterator<Item = Option<&'a RoaringBitmap>>) -> RoaringBitmap {
    bitmaps.into_iter().flatten().union()
}

fn require(flag: Option<bool>, bitmap: &RoaringBitmap, into: &mut RoaringBitmap) {
    match flag {
        Some(true) => *into &= bitmap,
        Some(false) => *into -= bitmap,
        None => {}
    }
}

/// `(doc, km to its nearest office)` for the documents with an office within a radius,
/// sorted by doc.
type Distances = Vec<(DocId, f64)>;

/// Offices within the radius.
fn within(index: &Index, near: &Near) -> Distances {
    let (lat, lng) = (near.point.latitude, near.point.longitude);
    let dlat = near.radius_km / 110.574;
    // A degree of longitude is shortest at the box's edge farthest from the equator.
    let far = (lat.abs() + dlat).min(89.0);
    let dlng = near.radius_km / (111.320 * far.to_radians().cos().max(0.01));
    let envelope = AABB::from_corners([lat - dlat, lng - dlng], [lat + dlat, lng + dlng]);
    let mut found: Distances = index
        .offices
        .locate_in_envelope(&envelope)
        .filter_map(|office| {
            let [olat, olng] = *office.geom();
            let d = GeoPoint {
                latitude: olat,
                longitude: olng,
            }
            .distance_km(&near.point);
            (d <= near.radius_km).then_some((office.data, d))
        })
        .collect();
    found.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    found.dedup_by_key(|(doc, _)| *doc);
    found
}

/// Every document the filters (all but `q`) let through, and the distances with `near`.
fn filtered(
    index: &Index,
    p: &SearchParams,
) -> Result<(RoaringBitmap, Option<Distances>), ApiError> {
    let mut f = index.alive.clone();
    if !p.include_stale {
        f -= index.flag(Flag::Stale);
    }
    for (kind, param, slugs) in [
        (Kind::Modality, "modality", &p.modalities[..]),
        (Kind::Specialty, "specialty", &p.specialties[..]),
        (Kind::Insurer, "insurer", &p.insurers[..]),
        (Kind::Certified, "certified_in", p.certified_in.as_slice()),
    ] {
        if !slugs.is_empty() {
            let ids = resolve(index, kind, param, slugs)?;
            f &= any(ids.iter().map(|id| index.term(kind, *id)));
        }
    }
    let texts = |field: Field, values: Vec<&str>, f: &mut RoaringBitmap| {
        if !values.is_empty() {
            *f &= any(values.into_iter().map(|v| index.value(field, v)));
        }
    };
    texts(
        Field::Language,
        p.languages.iter().map(String::as_str).collect(),
        &mut f,
    );
    texts(
        Field::Delivery,
        p.delivery.iter().map(|v| v.as_str()).collect(),
        &mut f,
    );
    texts(
        Field::SessionFormat,
        p.session_formats.iter().map(|v| v.as_str()).collect(),
        &mut f,
    );
    texts(Field::State, p.state.into_iter().collect(), &mut f);
    texts(
        Field::AgeGroup,
        p.age_group.iter().map(|v| v.as_str()).collect(),
        &mut f,
    );
    texts(
        Field::Community,
        p.community.iter().map(|v| v.as_str()).collect(),
        &mut f,
    );
    texts(
        Field::OfferingKind,
        p.offering.iter().map(|v| v.as_str()).collect(),
        &mut f,
    );
    texts(
        Field::Gender,
        p.gender.iter().map(|v| v.as_str()).collect(),
        &mut f,
    );
    texts(
        Field::Faith,
        p.faith.iter().map(|v| v.as_str()).collect(),
        &mut f,
    );
    require(p.accepting, index.flag(Flag::Accepting), &mut f);
    require(
        p.free_consultation,
        index.flag(Flag::FreeConsultation),
        &mut f,
    );
    require(p.sliding_scale, index.flag(Flag::SlidingScale), &mut f);
    require(
        p.license_verified,
        index.flag(Flag::LicenseVerified),
        &mut f,
    );
    let distances = match &p.near {
        Some(near) => {
            let found = within(index, near);
            let mut near_docs =
                RoaringBitmap::from_sorted_iter(found.iter().map(|(d, _)| *d)).unwrap_or_default();
            if let Some(online) = near.state.and_then(|s| index.value(Field::OnlineState, s)) {
                near_docs |= online;
            }
            f &= near_docs;
            Some(found)
        }
        None => None,
    };
    if let Some(max) = p.max_fee_cents {
        f &= index.fee_at_most(max);
    }
    Ok((f, distances))
}

/// `q` as words (phrases the lexicon knows kept whole), without generic words.
fn query_words(lexicon: &Lexicon, q: &str) -> Vec<String> {
    let raw: Vec<String> = text::words(q).take(MAX_QUERY_WORDS * 2).collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        let phrase = (2..=text::MAX_PHRASE_WORDS.min(raw.len() - i))
            .rev()
            .map(|n| raw[i..i + n].join(" "))
            .find(|p| lexicon.is_phrase(p));
        match phrase {
            Some(p) => {
                i += p.split(' ').count();
                out.push(p);
            }
            None => {
                if !text::is_generic(&raw[i]) {
                    out.push(raw[i].clone());
                }
                i += 1;
            }
        }
    }
    out.dedup();
    out.truncate(MAX_QUERY_WORDS);
    out
}

/// What free text selects: the matching documents, the words used, and what ranking needs.
struct TextMatch {
    matched: RoaringBitmap,
    used: Vec<String>,
    /// Matches of the used words, then of the dropped words that match some of `matched`.
    used_matches: Vec<Matches>,
    dropped_matches: Vec<RoaringBitmap>,
    name: u64,
}

/// Applies `q` to the filtered documents, dropping words from the end until some match.
fn match_text(index: &Index, lexicon: &Lexicon, q: &str, filtered: &RoaringBitmap) -> TextMatch {
    let words = query_words(lexicon, q);
    let name = name_key(
        text::words(q)
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str),
    );
    let mut known: Vec<(String, Matches, RoaringBitmap)> = Vec::new();
    let mut unknown = false;
    for word in words {
        let m = lexicon.matches(index, &word);
        let any = &m.any() & filtered;
        if any.is_empty() {
            // Matches nothing here: it cannot narrow anything, and is left out.
            unknown = true;
            continue;
        }
        known.push((word, m, any));
    }
    let mut matched = if known.is_empty() && unknown {
        RoaringBitmap::new()
    } else {
        filtered.clone()
    };
    let mut used = Vec::new();
    let mut used_matches = Vec::new();
    let mut dropped_matches = Vec::new();
    for (word, m, any) in known {
        let narrowed = &matched & &any;
        if dropped_matches.is_empty() && !narrowed.is_empty() {
            matched = narrowed;
            used.push(word);
            used_matches.push(m);
        } else {
            dropped_matches.push(any);
        }
    }
    TextMatch {
        matched,
        used,
        used_matches,
        dropped_matches,
        name,
    }
}

/// Relevance, highest first: an exact name match, then how many of the words match, then
/// where they match (name and modality, then practice, then statement), then the latest
/// confirmation. Packed into one number below 2^53, so a cursor holds it exactly; a
/// position is its negation (positions ascend) with the id, descending, as tie-breaker.
fn rank_key(exact: bool, words: u64, weight: u64, confirmed_key: i64) -> i64 {
    // The confirmation order's key is minus the time (never confirmed: `i64::MAX`).
    let confirmed = if confirmed_key == i64::MAX {
        0
    } else {
        (-confirmed_key).clamp(0, (1 << 34) - 1)
    };
    let prefix = ((u64::from(exact) << 4 | words.min(15)) << 7 | weight.min(127)) as i64;
    -((prefix << 34) | confirmed)
}

/// Points of one document: matched words × 128 + weight points (3 for a word in the name
/// or a modality, 2 in the practice, 1 in the statement; the best place per word).
fn points(t: &TextMatch, doc: DocId) -> (u64, u64) {
    let mut words = t.used_matches.len() as u64;
    let mut weight = 0;
    for m in &t.used_matches {
        weight += (0..3)
            .find(|&w| m.by_weight[w].contains(doc))
            .map_or(0, |w| 3 - w as u64);
    }
    words += t.dropped_matches.iter().filter(|d| d.contains(doc)).count() as u64;
    (words, weight)
}

/// The first `n` listings by relevance after `after`. The matches are split into buckets of
/// equal (words, weight), highest first; each bucket is read in confirmation order, so a
/// page of a common word touches a few buckets' first members rather than every match.
fn relevance_page(
    index: &Index,
    t: &TextMatch,
    after: Option<Position>,
    n: usize,
) -> Vec<(Position, DocId)> {
    let position = |doc: DocId, exact: bool| {
        let (words, weight) = points(t, doc);
        let (confirmed, tie) = index.position(Order::Confirmed, doc);
        (rank_key(exact, words, weight, confirmed), tie)
    };
    // Exact name matches: every word in the name, and the name no more than the words.
    let mut exact = if t.used_matches.is_empty() {
        RoaringBitmap::new()
    } else {
        t.matched.clone()
    };
    for m in &t.used_matches {
        exact &= &m.names;
    }
    let exact: RoaringBitmap = exact
        .iter()
        .filter(|&doc| index.name_key[doc as usize] == t.name)
        .collect();
    let mut page = smallest(exact.iter().map(|doc| (doc, position(doc, true))), after, n);
    if page.len() == n {
        return page;
    }
    let rest = &t.matched - &exact;
    let k = t.used_matches.len();
    let d = t.dropped_matches.len();
    if k > 4 || d > 3 {
        // Too many combinations to bucket: rank every match.
        let all = smallest(
            rest.iter().map(|doc| (doc, position(doc, false))),
            after,
            n - page.len(),
        );
        page.extend(all);
        return page;
    }
    // Per used word, the matches by best place: name, practice only, statement only.
    let levels: Vec<[RoaringBitmap; 3]> = t
        .used_matches
        .iter()
        .map(|m| {
            let a = &m.by_weight[0] & &rest;
            let b = &(&m.by_weight[1] & &rest) - &a;
            let c = &(&(&m.by_weight[2] & &rest) - &a) - &b;
            [a, b, c]
        })
        .collect();
    let mut buckets: BTreeMap<(u64, u64), RoaringBitmap> = BTreeMap::new();
    for combo in 0..3usize.pow(k as u32) {
        let mut set = rest.clone();
        let mut weight = 0;
        let mut c = combo;
        for level in &levels {
            set &= &level[c % 3];
            weight += 3 - (c % 3) as u64;
            c /= 3;
            if set.is_empty() {
                break;
            }
        }
        if set.is_empty() {
            continue;
        }
        for subset in 0..(1usize << d) {
            let mut part = set.clone();
            for (j, dropped) in t.dropped_matches.iter().enumerate() {
                if subset >> j & 1 == 1 {
                    part &= dropped;
                } else {
                    part -= dropped;
                }
            }
            if !part.is_empty() {
                let words = (k + subset.count_ones() as usize) as u64;
                *buckets.entry((words, weight)).or_default() |= part;
            }
        }
    }
    for ((words, weight), bucket) in buckets.into_iter().rev() {
        let first = rank_key(false, words, weight, i64::MIN + 1);
        let last = rank_key(false, words, weight, i64::MAX);
        // Positions in this bucket run from `first` (latest) to `last` (never confirmed).
        let start = match after {
            Some((key, _)) if key > last => continue,
            Some((key, tie)) if key >= first => {
                // The cursor is inside this bucket: resume after it in confirmation order.
                let confirmed = last - key;
                Some((if confirmed == 0 { i64::MAX } else { -confirmed }, tie))
            }
            _ => None,
        };
        let found = in_order(index, &bucket, Order::Confirmed, start, n - page.len());
        page.extend(found.into_iter().map(|((confirmed, tie), doc)| {
            ((rank_key(false, words, weight, confirmed), tie), doc)
        }));
        if page.len() == n {
            break;
        }
    }
    page
}

/// The first `n` members of `set` in `order` after `after` (positions in the order's
/// terms). A large set is read by walking the order and testing membership, about
/// `n × all / |set|` steps; a small one by ranking its members.
fn in_order(
    index: &Index,
    set: &RoaringBitmap,
    order: Order,
    after: Option<Position>,
    n: usize,
) -> Vec<(Position, DocId)> {
    let size = set.len() as usize;
    if size * size > 4 * n * index.listing.len().max(1) {
        let start = match after {
            Some((key, tie)) => Bound::Excluded((key, tie, DocId::MAX)),
            None => Bound::Unbounded,
        };
        index
            .ordered(order)
            .range((start, Bound::Unbounded))
            .filter(|(_, _, doc)| set.contains(*doc))
            .take(n)
            .map(|&(key, tie, doc)| ((key, tie), doc))
            .collect()
    } else {
        smallest(
            set.iter().map(|doc| (doc, index.position(order, doc))),
            after,
            n,
        )
    }
}

/// Below this many matches, facets are counted by reading each match's values; above, by
/// intersecting each value's bitmap with the matches.
const COUNT_BY_LISTING_BELOW: u64 = 30_000;

fn tag(facet: Facet) -> FacetTag {
    match facet {
        Facet::Modality => FacetTag::Modality,
        Facet::Specialty => FacetTag::Specialty,
        Facet::Insurer => FacetTag::Insurer,
        Facet::Delivery => FacetTag::Delivery,
        Facet::SessionFormat => FacetTag::SessionFormat,
    }
}

/// Facet counts over a small `matched`, from each listing's values: `(facet, value) →
/// count`, each facet's counts indexed by term id or name number.
fn count_by_listing(index: &Index, requested: &[Facet], matched: &RoaringBitmap) -> Vec<Vec<u64>> {
    let mut counts: Vec<Vec<u64>> = vec![Vec::new(); 5];
    let wanted: u32 = requested.iter().map(|f| 1 << tag(*f) as u32).sum();
    for doc in matched {
        for &code in index.facet_codes(doc) {
            let t = (code >> 24) as usize;
            if wanted >> t & 1 == 1 {
                let v = (code & 0xFF_FFFF) as usize;
                let c = &mut counts[t];
                if c.len() <= v {
                    c.resize(v + 1, 0);
                }
                c[v] += 1;
            }
        }
    }
    counts
}

/// Facet counts over `matched`, each list by count (highest first), then slug.
fn facets(index: &Index, requested: &[Facet], matched: &RoaringBitmap) -> Value {
    facets_counted(
        index,
        requested,
        matched,
        matched.len() < COUNT_BY_LISTING_BELOW,
    )
}

fn facets_counted(
    index: &Index,
    requested: &[Facet],
    matched: &RoaringBitmap,
    per_listing: bool,
) -> Value {
    let mut out = Map::new();
    let by_listing =
        (per_listing && !requested.is_empty()).then(|| count_by_listing(index, requested, matched));
    let counted = |facet: Facet, value: u32, bitmap: Option<&RoaringBitmap>| -> u64 {
        match &by_listing {
            Some(counts) => counts[tag(facet) as usize]
                .get(value as usize)
                .copied()
                .unwrap_or(0),
            None => bitmap.map_or(0, |b| b.intersection_len(matched)),
        }
    };
    for &facet in requested {
        let mut list: Vec<(&str, u64)> = match facet {
            Facet::Modality | Facet::Specialty | Facet::Insurer => {
                let kind = match facet {
                    Facet::Modality => Kind::Modality,
                    Facet::Specialty => Kind::Specialty,
                    _ => Kind::Insurer,
                };
                index
                    .taxonomy
                    .terms(kind)
                    .iter()
                    .filter(|t| !t.retired && t.id >= 0)
                    .filter_map(|t| {
                        let n = counted(facet, t.id as u32, index.term(kind, t.id));
                        (n > 0).then_some((t.slug.as_str(), n))
                    })
                    .collect()
            }
            Facet::Delivery | Facet::SessionFormat => {
                let field = if facet == Facet::Delivery {
                    Field::Delivery
                } else {
                    Field::SessionFormat
                };
                let names = &index.facet_names[tag(facet) as usize - FacetTag::Delivery as usize];
                names
                    .iter()
                    .enumerate()
                    .filter_map(|(number, name)| {
                        let n = counted(facet, number as u32, index.value(field, name));
                        (n > 0).then_some((&**name, n))
                    })
                    .collect()
            }
        };
        list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        out.insert(
            facet.name().to_owned(),
            list.into_iter()
                .map(|(slug, count)| json!({"slug": slug, "count": count}))
                .collect(),
        );
    }
    Value::Object(out)
}

/// The `n` smallest positions after `after`.
fn smallest(
    candidates: impl Iterator<Item = (DocId, Position)>,
    after: Option<Position>,
    n: usize,
) -> Vec<(Position, DocId)> {
    let mut heap: BinaryHeap<(Position, DocId)> = BinaryHeap::with_capacity(n + 1);
    for (doc, position) in candidates {
        if after.is_some_and(|a| position <= a) {
            continue;
        }
        if heap.len() < n {
            heap.push((position, doc));
        } else if heap.peek().is_some_and(|top| (position, doc) < *top) {
            heap.pop();
            heap.push((position, doc));
        }
    }
    heap.into_sorted_vec()
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
                listing: index.uuid(doc),
                position,
                distance_km: distance_of(doc),
            })
            .collect(),
        total: matched.len(),
        facets: facets(index, &p.facets, matched),
        words_used: text.map(|t| t.used),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::index::{Entry, Taxonomy, Term};

    fn index_of(entries: Vec<Entry>) -> (Index, Lexicon) {
        let mut index = Index::with_taxonomy(Taxonomy {
            modality: vec![Term {
                id: 1,
                slug: "emdr".into(),
                name: "EMDR".into(),
                retired: false,
            }],
            ..Taxonomy::default()
        });
        index.apply(entries, &[]);
        let mut lexicon = Lexicon::build(&index.taxonomy);
        lexicon.refresh_known(&index);
        (index, lexicon)
    }

    fn entry(name: &str, statement: &str) -> Entry {
        Entry {
            listing_id: uuid::Uuid::now_v7(),
            display_name: name.into(),
            statement: statement.into(),
            ..Entry::default()
        }
    }

    fn names(index: &Index, lexicon: &Lexicon, q: &str) -> (Vec<String>, Vec<String>) {
        let p = SearchParams::parse(&format!("q={q}")).unwrap();
        let answer = run(index, lexicon, &p, Sort::Relevance, None, 10).unwrap();
        let slots: Vec<String> = answer.page.iter().map(|h| h.listing.to_string()).collect();
        (slots, answer.words_used.unwrap_or_default())
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

    #[test]
    fn facets_counted_per_listing_equal_facets_counted_by_bitmap() {
        use rand::rngs::StdRng;
        use rand::{Rng, SeedableRng};
        let mut rng = StdRng::seed_from_u64(9);
        let delivery = ["in_person", "video", "phone"];
        let entries: Vec<Entry> = (0..300)
            .map(|_| Entry {
                modality_ids: if rng.random_bool(0.5) {
                    vec![1]
                } else {
                    vec![]
                },
                delivery: delivery
                    .iter()
                    .filter(|_| rng.random_bool(0.5))
                    .map(|d| (*d).to_owned())
                    .collect(),
                ..entry("Facet Person", "words")
            })
            .collect();
        let (index, _) = index_of(entries);
        let requested = [Facet::Modality, Facet::Delivery, Facet::Insurer];
        let some: RoaringBitmap = (0..300).filter(|d| d % 3 != 0).collect();
        for matched in [index.alive.clone(), some] {
            let by_bitmap = facets_counted(&index, &requested, &matched, false);
            assert_eq!(
                facets_counted(&index, &requested, &matched, true),
                by_bitmap
            );
            assert_eq!(by_bitmap["modality"][0]["slug"], "emdr");
            assert_eq!(by_bitmap["delivery"].as_array().map(Vec::len), Some(3));
        }
    }

    #[test]
    fn words_drop_from_the_end_and_rank_by_name_then_words() {
        let a = entry("Ana Lopez", "I help with grief and anxiety");
        let b = entry("Grief Person", "Teens and families");
        let c = Entry {
            modality_ids: vec![1],
            ..entry("Other One", "anxiety")
        };
        let (index, lexicon) = index_of(vec![a.clone(), b.clone(), c.clone()]);
        let (found, used) = names(&index, &lexicon, "grief+anxiety+zebra");
        assert_eq!(used, ["grief", "anxiety"]);
        assert_eq!(found, [a.listing_id.to_string()]);
        // "grief" alone: the name match (heavier) first.
        let (found, _) = names(&index, &lexicon, "grief");
        assert_eq!(found, [b.listing_id.to_string(), a.listing_id.to_string()]);
        // The vocabulary: a modality's name, a synonym, a typo.
        assert_eq!(
            names(&index, &lexicon, "emdr").0,
            [c.listing_id.to_string()]
        );
        assert_eq!(
            names(&index, &lexicon, "adolescent").0,
            [b.listing_id.to_string()]
        );
        assert_eq!(names(&index, &lexicon, "anxeity").0.len(), 2);
        // Only unknown words: nothing.
        assert!(names(&index, &lexicon, "zzzzqqq").0.is_empty());
        // Only generic words: everything.
        assert_eq!(names(&index, &lexicon, "therapist+near+me").0.len(), 3);
    }
}
