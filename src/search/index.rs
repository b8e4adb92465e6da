//! The in-memory index of the public directory: one roaring bitmap of documents per filter
//! value, per word and per term (Meilisearch's design), a grid of office locations, and
//! per-document sort columns. A document is a listing's `directory_entry`; its number
//! (`DocId`) is a slot reused after a deletion.
//!
//! Changes arrive in batches (`apply`): the changed documents are first cleared from every
//! bitmap at once (one pass over the bitmaps per batch, so no per-document list of words is
//! kept), then added again as they now stand.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use roaring::RoaringBitmap;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::card::{CardView, Cards, Shared};
use super::codes::{FacetCodes, FacetValue};
use super::counts::Counts;
pub use super::entry::{Entry, FacetTag, Field, Flag, Kind, Taxonomy, Term, Weight};
use super::grid::{Grid, Office};
use super::text;

pub type DocId = u32;
/// A document's place in a sort order: the key, a tie-breaker, the document.
pub type Ordered = (i64, u128, DocId);

/// The orders kept sorted as documents change, so a page of a large match set is found by
/// walking the order rather than by ranking every match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Latest confirmation first (never confirmed last), then id descending.
    Confirmed,
    /// Lowest fee first (no fee last), then id ascending.
    Fee,
}

/// The fields marked `skip` are not written to a snapshot: `restore` derives them from the
/// others (or starts them empty, as caches) when one is read.
#[derive(Default, Serialize, Deserialize)]
pub struct Index {
    pub alive: RoaringBitmap,
    /// `alive` without the stale documents: what a search shows by default, kept rather
    /// than derived per search (a million documents are 128 KB to copy and subtract).
    #[serde(skip)]
    shown: RoaringBitmap,
    flags: [RoaringBitmap; 5],
    values: [HashMap<Box<str>, RoaringBitmap>; Field::COUNT],
    ids: [HashMap<i32, RoaringBitmap>; 4],
    /// Documents by lowest fee; those without a fee under `i32::MAX`.
    pub fees: BTreeMap<i32, RoaringBitmap>,
    /// Documents with a fee at or below each of at most `FEE_STEPS` thresholds, so a
    /// maximum fee is one of these and a union of the few fees above it.
    #[serde(skip)]
    fee_prefixes: Vec<(i32, RoaringBitmap)>,
    /// Word key → number; postings per number, one bitmap per `Weight`.
    pub words: HashMap<Box<str>, u32>,
    pub postings: Vec<[RoaringBitmap; 3]>,
    /// Surface word → its keys' numbers, so a word is stemmed once.
    #[serde(skip)]
    key_cache: HashMap<Box<str>, (u32, Option<u32>)>,
    /// Word numbers no key holds, for the next new key.
    free_words: RoaringBitmap,
    /// Numbers of words that no document held at some point since the last reclaim.
    emptied_words: RoaringBitmap,
    #[serde(skip)]
    pub vocabulary_changed: bool,
    #[serde(skip)]
    pub offices: Grid,
    // Per-document columns, indexed by `DocId`.
    pub listing: Vec<u128>,
    pub fee: Vec<i32>,
    /// Last confirmation in seconds since the epoch; `i64::MIN` when never confirmed.
    pub confirmed: Vec<i64>,
    pub name_key: Vec<u64>,
    office_points: Vec<Vec<[f64; 2]>>,
    /// What each document's search item shows, packed (see `card`).
    cards: Cards,
    shared: Shared,
    /// Each document's facet values (a term id, or the number of a delivery or format name
    /// in `facet_names`): a small match set is counted by reading these rather than
    /// intersecting every value's bitmap with it.
    pub facet_codes: FacetCodes,
    /// Delivery and session-format names by number.
    pub facet_names: [Vec<Box<str>>; 2],
    #[serde(skip)]
    by_confirmed: BTreeSet<Ordered>,
    #[serde(skip)]
    by_fee: BTreeSet<Ordered>,
    #[serde(skip)]
    slots: HashMap<Uuid, DocId>,
    #[serde(skip)]
    free: Vec<DocId>,
    pub taxonomy: Taxonomy,
    /// Counts kept until the next change (see `Counts`).
    #[serde(skip)]
    pub counts: Counts,
}

impl Index {
    pub fn with_taxonomy(taxonomy: Taxonomy) -> Self {
        Index {
            taxonomy,
            ..Index::default()
        }
    }

    /// Derives what a snapshot leaves out (see `Index`) from what it holds: the documents
    /// by listing and the free slots, the grid of offices, the kept orders and the fee
    /// thresholds.
    pub fn restore(&mut self) {
        let mut offices = Vec::new();
        let mut by_confirmed = Vec::new();
        let mut by_fee = Vec::new();
        for (d, &listing) in self.listing.iter().enumerate() {
            let doc = d as DocId;
            if listing == 0 {
                self.free.push(doc);
                continue;
            }
            self.slots.insert(Uuid::from_u128(listing), doc);
            offices.extend(
                self.office_points[d]
                    .iter()
                    .map(|&point| Office { point, doc }),
            );
            by_confirmed.push(self.ordered_entry(Order::Confirmed, doc));
            by_fee.push(self.ordered_entry(Order::Fee, doc));
        }
        // Reused from the lowest, as `pop` takes them.
        self.free.reverse();
        self.offices = Grid::bulk_load(offices);
        self.by_confirmed = by_confirmed.into_iter().collect();
        self.by_fee = by_fee.into_iter().collect();
        self.rebuild_summaries();
        self.facet_codes.derive_columns(&self.shown);
    }

    pub fn len(&self) -> u64 {
        self.alive.len()
    }

    pub fn is_empty(&self) -> bool {
        self.alive.is_empty()
    }

    /// The documents a search shows: stale ones only when asked for.
    pub fn visible(&self, include_stale: bool) -> &RoaringBitmap {
        if include_stale {
            &self.alive
        } else {
            &self.shown
        }
    }

    pub fn flag(&self, flag: Flag) -> &RoaringBitmap {
        &self.flags[flag as usize]
    }

    pub fn value(&self, field: Field, value: &str) -> Option<&RoaringBitmap> {
        self.values[field as usize].get(value)
    }

    pub fn term(&self, kind: Kind, id: i32) -> Option<&RoaringBitmap> {
        self.ids[kind as usize].get(&id)
    }

    /// Documents whose lowest fee is at most `max`.
    pub fn fee_at_most(&self, max: i32) -> RoaringBitmap {
        use roaring::MultiOps;
        use std::ops::Bound;
        let i = self.fee_prefixes.partition_point(|(t, _)| *t <= max);
        let (base, from) = match i.checked_sub(1).map(|i| &self.fee_prefixes[i]) {
            Some((threshold, docs)) => (docs.clone(), Bound::Excluded(*threshold)),
            None => (RoaringBitmap::new(), Bound::Unbounded),
        };
        base | self
            .fees
            .range((from, Bound::Included(max)))
            .map(|(_, b)| b)
            .union()
    }

    /// Rebuilds what is derived from the whole index after a change: the documents shown
    /// and the fee thresholds.
    fn rebuild_summaries(&mut self) {
        self.shown = &self.alive - self.flag(Flag::Stale);
        self.rebuild_fee_prefixes();
    }

    fn rebuild_fee_prefixes(&mut self) {
        const FEE_STEPS: usize = 64;
        let fees: Vec<(&i32, &RoaringBitmap)> =
            self.fees.iter().filter(|(f, _)| **f != i32::MAX).collect();
        let step = fees.len().div_ceil(FEE_STEPS).max(1);
        let mut running = RoaringBitmap::new();
        let mut prefixes = Vec::new();
        for (i, (fee, docs)) in fees.iter().enumerate() {
            running |= *docs;
            if (i + 1) % step == 0 || i + 1 == fees.len() {
                prefixes.push((**fee, running.clone()));
            }
        }
        self.fee_prefixes = prefixes;
    }

    fn facet_name_number(&mut self, tag: FacetTag, name: &str) -> u32 {
        let names = &mut self.facet_names[tag as usize - FacetTag::Delivery as usize];
        match names.iter().position(|n| &**n == name) {
            Some(i) => i as u32,
            None => {
                names.push(name.into());
                (names.len() - 1) as u32
            }
        }
    }

    /// What `doc`'s search item shows, read in place.
    pub fn card(&self, doc: DocId) -> Option<CardView<'_>> {
        self.shared.view(self.uuid(doc), self.cards.get(doc)?)
    }

    /// `doc`'s display name and slug.
    pub fn name_and_slug(&self, doc: DocId) -> Option<(String, String)> {
        Shared::name_and_slug(self.cards.get(doc)?)
    }

    pub fn uuid(&self, doc: DocId) -> Uuid {
        Uuid::from_u128(self.listing[doc as usize])
    }

    /// `[lat, lng]` of `doc`'s offices, in the listing's order.
    pub fn office_points(&self, doc: DocId) -> &[[f64; 2]] {
        self.office_points
            .get(doc as usize)
            .map_or(&[], Vec::as_slice)
    }

    /// `doc`'s key and tie-breaker in `order`.
    pub fn position(&self, order: Order, doc: DocId) -> (i64, u128) {
        let d = doc as usize;
        match order {
            Order::Confirmed => {
                let c = self.confirmed[d];
                (
                    if c == i64::MIN { i64::MAX } else { -c },
                    u128::MAX - self.listing[d],
                )
            }
            Order::Fee => (i64::from(self.fee[d]), self.listing[d]),
        }
    }

    /// Every document, in `order`.
    pub fn ordered(&self, order: Order) -> &BTreeSet<Ordered> {
        match order {
            Order::Confirmed => &self.by_confirmed,
            Order::Fee => &self.by_fee,
        }
    }

    fn ordered_entry(&self, order: Order, doc: DocId) -> Ordered {
        let (key, tie) = self.position(order, doc);
        (key, tie, doc)
    }

    /// Replaces the documents of `upserts` and removes those of `deletes` (a listing no
    /// longer public). Subjects the index does not hold are ignored when deleted.
    pub fn apply(&mut self, upserts: Vec<Entry>, deletes: &[Uuid]) {
        let mut cleared = RoaringBitmap::new();
        for id in deletes.iter().chain(upserts.iter().map(|e| &e.listing_id)) {
            if let Some(&doc) = self.slots.get(id) {
                cleared.insert(doc);
            }
        }
        if !cleared.is_empty() {
            self.clear(&cleared);
        }
        for id in deletes {
            if let Some(doc) = self.slots.remove(id) {
                self.listing[doc as usize] = 0;
                self.cards.set(doc, None);
                self.facet_codes.clear(doc);
                self.free.push(doc);
            }
        }
        let changed = !cleared.is_empty() || !upserts.is_empty();
        for entry in upserts {
            let doc = match self.slots.get(&entry.listing_id) {
                Some(&doc) => doc,
                None => {
                    let doc = self.free.pop().unwrap_or(self.listing.len() as DocId);
                    self.slots.insert(entry.listing_id, doc);
                    doc
                }
            };
            self.add(doc, entry);
        }
        self.offices.settle();
        if changed {
            self.rebuild_summaries();
            self.counts.clear();
        }
    }

    /// Takes `docs` out of every bitmap and the grid of offices.
    fn clear(&mut self, docs: &RoaringBitmap) {
        self.alive -= docs;
        for bitmap in &mut self.flags {
            *bitmap -= docs;
        }
        for map in &mut self.values {
            map.retain(|_, b| {
                *b -= docs;
                !b.is_empty()
            });
        }
        for map in &mut self.ids {
            map.retain(|_, b| {
                *b -= docs;
                !b.is_empty()
            });
        }
        self.fees.retain(|_, b| {
            *b -= docs;
            !b.is_empty()
        });
        for (id, postings) in self.postings.iter_mut().enumerate() {
            let mut emptied = false;
            for b in postings.iter_mut() {
                if !b.is_disjoint(docs) {
                    *b -= docs;
                    emptied |= b.is_empty();
                }
            }
            if emptied {
                self.vocabulary_changed = true;
                if postings.iter().all(RoaringBitmap::is_empty) {
                    self.emptied_words.insert(id as u32);
                }
            }
        }
        for doc in docs {
            for point in std::mem::take(&mut self.office_points[doc as usize]) {
                self.offices.remove(&Office { point, doc });
            }
            let confirmed = self.ordered_entry(Order::Confirmed, doc);
            self.by_confirmed.remove(&confirmed);
            let fee = self.ordered_entry(Order::Fee, doc);
            self.by_fee.remove(&fee);
        }
    }

    fn add(&mut self, doc: DocId, e: Entry) {
        let d = doc as usize;
        if d >= self.listing.len() {
            self.listing.resize(d + 1, 0);
            self.fee.resize(d + 1, i32::MAX);
            self.confirmed.resize(d + 1, i64::MIN);
            self.name_key.resize(d + 1, 0);
            self.office_points.resize(d + 1, Vec::new());
        }
        self.listing[d] = e.listing_id.as_u128();
        let fee = e.fee_floor_cents.unwrap_or(i32::MAX);
        self.fee[d] = fee;
        self.confirmed[d] = e
            .last_confirmed_at
            .map_or(i64::MIN, OffsetDateTime::unix_timestamp);
        let name_words: Vec<String> = text::words(&e.display_name).collect();
        self.name_key[d] = text::name_key(name_words.iter().map(String::as_str));

        self.alive.insert(doc);
        self.fees.entry(fee).or_default().insert(doc);
        let confirmed = self.ordered_entry(Order::Confirmed, doc);
        self.by_confirmed.insert(confirmed);
        let by_fee = self.ordered_entry(Order::Fee, doc);
        self.by_fee.insert(by_fee);
        for (flag, on) in [
            (Flag::Stale, e.stale),
            (Flag::Accepting, e.accepting),
            (Flag::FreeConsultation, e.free_consultation),
            (Flag::SlidingScale, e.sliding_scale),
            (Flag::LicenseVerified, e.license_verified),
        ] {
            if on {
                self.flags[flag as usize].insert(doc);
            }
        }
        let online_only =
            e.offices.is_empty() && e.delivery.iter().any(|d| d == "video" || d == "phone");
        let online: &[String] = if online_only {
            &e.telehealth_states
        } else {
            &[]
        };
        for (field, values) in [
            (Field::Language, &e.languages[..]),
            (Field::State, &e.states[..]),
            (Field::OnlineState, online),
            (Field::AgeGroup, &e.age_groups[..]),
            (Field::Community, &e.communities[..]),
            (Field::SessionFormat, &e.session_formats[..]),
            (Field::Delivery, &e.delivery[..]),
            (Field::OfferingKind, &e.offering_kinds[..]),
            (Field::Gender, e.gender.as_slice()),
            (Field::Faith, e.faith.as_slice()),
        ] {
            let map = &mut self.values[field as usize];
            for value in values {
                match map.get_mut(value.as_str()) {
                    Some(b) => {
                        b.insert(doc);
                    }
                    None => {
                        map.insert(value.as_str().into(), RoaringBitmap::from_iter([doc]));
                    }
                }
            }
        }
        self.add_facet_codes(doc, &e);
        for (kind, ids) in [
            (Kind::Modality, &e.modality_ids),
            (Kind::Specialty, &e.specialty_ids),
            (Kind::Insurer, &e.insurer_ids),
            (Kind::Certified, &e.certified_modality_ids),
        ] {
            for id in ids {
                self.ids[kind as usize].entry(*id).or_default().insert(doc);
            }
        }
        self.add_words(doc, &e, &name_words);
        let points: Vec<[f64; 2]> = e.offices.iter().map(|&(lat, lng)| [lat, lng]).collect();
        for &point in &points {
            self.offices.insert(Office { point, doc });
        }
        self.office_points[d] = points;
        let packed = e.card.and_then(|card| self.shared.pack(card));
        self.cards.set(doc, packed.as_deref());
    }

    /// The facet codes of `doc`: its taxonomy terms and the named values facets count.
    fn add_facet_codes(&mut self, doc: DocId, e: &Entry) {
        let mut values: Vec<FacetValue> = Vec::new();
        for (tag, ids) in [
            (FacetTag::Modality, &e.modality_ids),
            (FacetTag::Specialty, &e.specialty_ids),
            (FacetTag::Insurer, &e.insurer_ids),
        ] {
            values.extend(ids.iter().map(|id| (tag, *id as u32)));
        }
        for (tag, names) in [
            (FacetTag::Delivery, &e.delivery),
            (FacetTag::SessionFormat, &e.session_formats),
        ] {
            for name in names {
                let n = self.facet_name_number(tag, name);
                values.push((tag, n));
            }
        }
        // Counted as the documents a search shows by default (`visible`).
        self.facet_codes.set(doc, &values, !e.stale);
    }

    /// The words `doc` is found by, each with the weight of where it stands.
    fn add_words(&mut self, doc: DocId, e: &Entry, name_words: &[String]) {
        for word in name_words {
            self.index_word(doc, word, Weight::Name);
        }
        let practice = [
            e.credentials.as_deref().unwrap_or(""),
            e.professional_title.as_deref().unwrap_or(""),
            &e.offering_titles,
        ];
        for part in practice
            .into_iter()
            .chain(e.cities.iter().map(String::as_str))
        {
            for word in text::words(part) {
                self.index_word(doc, &word, Weight::Practice);
            }
        }
        for word in text::words(&e.statement) {
            self.index_word(doc, &word, Weight::Statement);
        }
    }

    fn index_word(&mut self, doc: DocId, word: &str, weight: Weight) {
        if text::is_generic(word) {
            return;
        }
        let (first, second) = match self.key_cache.get(word) {
            Some(&ids) => ids,
            None => {
                let mut ids = text::keys(word).map(|key| self.word_number(&key));
                let first = ids.next().unwrap_or(0);
                let second = ids.next();
                self.key_cache.insert(word.into(), (first, second));
                (first, second)
            }
        };
        for id in std::iter::once(first).chain(second) {
            let b = &mut self.postings[id as usize][weight as usize];
            if b.is_empty() {
                self.vocabulary_changed = true;
            }
            b.insert(doc);
        }
    }

    fn word_number(&mut self, key: &str) -> u32 {
        if let Some(&id) = self.words.get(key) {
            return id;
        }
        let id = match self.free_words.min() {
            Some(id) => {
                self.free_words.remove(id);
                id
            }
            None => {
                self.postings.push(Default::default());
                self.postings.len() as u32 - 1
            }
        };
        self.words.insert(key.into(), id);
        id
    }

    /// Forgets the word keys no document holds any more and frees their numbers, once they
    /// are over a tenth of the table: the table then follows what is indexed, not every
    /// word ever indexed (a listing edited again and again with new words would grow it
    /// without end). Forgetting reads the whole table, so it waits until that is worth it.
    pub fn reclaim_words(&mut self) -> usize {
        let postings = &self.postings;
        self.emptied_words = self
            .emptied_words
            .iter()
            .filter(|&id| postings[id as usize].iter().all(RoaringBitmap::is_empty))
            .collect();
        if self.emptied_words.len() as usize <= self.words.len() / 10 {
            return 0;
        }
        let empty = std::mem::take(&mut self.emptied_words);
        self.words.retain(|_, id| !empty.contains(*id));
        self.key_cache.retain(|_, (first, second)| {
            !empty.contains(*first) && second.is_none_or(|s| !empty.contains(s))
        });
        self.free_words |= &empty;
        empty.len() as usize
    }

    /// A word key's postings, if any document holds it.
    pub fn postings(&self, key: &str) -> Option<&[RoaringBitmap; 3]> {
        let p = &self.postings[*self.words.get(key)? as usize];
        (!p.iter().all(RoaringBitmap::is_empty)).then_some(p)
    }
}
