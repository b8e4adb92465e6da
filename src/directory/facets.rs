//! Facet counts over a search's result window, counted here from the window's rows.
//!
//! The search statement returns the window's facet arrays (one row per listing, at most the
//! window) and, per taxonomy facet, the names of the terms that are not retired. Counting
//! them in PostgreSQL (an `unnest`, a hash aggregate and a join per facet) was a quarter of
//! a search's database time at 1M listings; counting a few thousand ids here costs
//! microseconds (README, "Search benchmark").

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use sqlx::Row;
use sqlx::postgres::PgRow;

use super::search::Facet;
use crate::error::ApiError;

impl Facet {
    /// Every facet, in the order of the window's columns in the search statement.
    pub const ALL: [Facet; 5] = [
        Facet::Modality,
        Facet::Specialty,
        Facet::Insurer,
        Facet::Delivery,
        Facet::SessionFormat,
    ];

    /// The facet's key in the response.
    pub fn name(self) -> &'static str {
        match self {
            Facet::Modality => "modality",
            Facet::Specialty => "specialty",
            Facet::Insurer => "insurer",
            Facet::Delivery => "delivery",
            Facet::SessionFormat => "session_format",
        }
    }

    /// The window column holding the facet's values.
    pub fn column(self) -> &'static str {
        match self {
            Facet::Modality => "modality_ids",
            Facet::Specialty => "specialty_ids",
            Facet::Insurer => "insurer_ids",
            Facet::Delivery => "delivery",
            Facet::SessionFormat => "session_formats",
        }
    }

    /// The taxonomy table whose ids the facet counts; `None` for a fixed vocabulary, whose
    /// values are their own slugs.
    pub fn taxonomy(self) -> Option<&'static str> {
        match self {
            Facet::Modality => Some("modality"),
            Facet::Specialty => Some("specialty"),
            Facet::Insurer => Some("insurer"),
            Facet::Delivery | Facet::SessionFormat => None,
        }
    }
}

/// Counts for the requested facets, fed one window row at a time.
pub struct FacetCounter<'a> {
    requested: &'a [Facet],
    ids: HashMap<Facet, HashMap<i32, i64>>,
    texts: HashMap<Facet, HashMap<String, i64>>,
    /// Per taxonomy facet, the slug of each term that is not retired.
    names: HashMap<Facet, HashMap<i32, String>>,
}

impl<'a> FacetCounter<'a> {
    pub fn new(requested: &'a [Facet]) -> Self {
        FacetCounter {
            requested,
            ids: HashMap::new(),
            texts: HashMap::new(),
            names: HashMap::new(),
        }
    }

    /// Adds one listing of the window: every requested facet's values in `row`.
    pub fn add_row(&mut self, row: &PgRow) -> Result<(), ApiError> {
        for &facet in self.requested {
            if facet.taxonomy().is_some() {
                let values: Option<Vec<i32>> = row.try_get(facet.column())?;
                self.add_ids(facet, values.unwrap_or_default());
            } else {
                let values: Option<Vec<String>> = row.try_get(facet.column())?;
                self.add_texts(facet, values.unwrap_or_default());
            }
        }
        Ok(())
    }

    fn add_ids(&mut self, facet: Facet, values: Vec<i32>) {
        let counts = self.ids.entry(facet).or_default();
        for id in values {
            *counts.entry(id).or_default() += 1;
        }
    }

    fn add_texts(&mut self, facet: Facet, values: Vec<String>) {
        let counts = self.texts.entry(facet).or_default();
        for value in values {
            *counts.entry(value).or_default() += 1;
        }
    }

    /// The names of the requested taxonomy facets' current terms, as the statement returns
    /// them: `{"modality": {"<id>": "<slug>", …}, …}`. Ids of retired terms are absent, so
    /// they are not counted.
    pub fn set_names(&mut self, mut names: Value) {
        for &facet in self.requested {
            let Some(Value::Object(terms)) = names.get_mut(facet.name()).map(Value::take) else {
                continue;
            };
            let terms = terms
                .into_iter()
                .filter_map(|(id, slug)| Some((id.parse().ok()?, slug.as_str()?.to_owned())))
                .collect();
            self.names.insert(facet, terms);
        }
    }

    /// `{"modality": [{"slug", "count"}…], …}` for the requested facets, each list by count
    /// (highest first), then slug.
    pub fn into_json(mut self) -> Value {
        let mut out = Map::new();
        for &facet in self.requested {
            let mut list: Vec<(String, i64)> = match facet.taxonomy() {
                Some(_) => {
                    let names = self.names.remove(&facet).unwrap_or_default();
                    self.ids
                        .remove(&facet)
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|(id, n)| Some((names.get(&id)?.clone(), n)))
                        .collect()
                }
                None => self
                    .texts
                    .remove(&facet)
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
            };
            list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            out.insert(
                facet.name().to_owned(),
                list.into_iter()
                    .map(|(slug, count)| json!({"slug": slug, "count": count}))
                    .collect(),
            );
        }
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_count_then_slug_without_retired_terms() {
        let requested = [Facet::Modality, Facet::Delivery];
        let mut counter = FacetCounter::new(&requested);
        for ids in [vec![1, 2], vec![2, 3], vec![3, 9]] {
            counter.add_ids(Facet::Modality, ids);
        }
        for values in [vec!["video"], vec!["video", "phone"], vec![]] {
            counter.add_texts(
                Facet::Delivery,
                values.into_iter().map(str::to_owned).collect(),
            );
        }
        // 9 is retired: absent from the names.
        counter.set_names(json!({"modality": {"1": "imago", "2": "emdr", "3": "cbt"}}));
        assert_eq!(
            counter.into_json(),
            json!({
                "modality": [
                    {"slug": "cbt", "count": 2},
                    {"slug": "emdr", "count": 2},
                    {"slug": "imago", "count": 1},
                ],
                "delivery": [
                    {"slug": "video", "count": 2},
                    {"slug": "phone", "count": 1},
                ],
            })
        );
    }

    #[test]
    fn a_requested_facet_with_no_values_is_an_empty_list() {
        let requested = [Facet::Insurer, Facet::SessionFormat];
        let counter = FacetCounter::new(&requested);
        assert_eq!(
            counter.into_json(),
            json!({"insurer": [], "session_format": []})
        );
    }
}
