//! What a search that found little asked for, as the terms admins see: its words, its
//! place, and (when it found nothing) its filters combined.

use super::model::{DemandKind, FEW_RESULTS};
use crate::search::params::SearchParams;

/// Longest term kept; longer filter combinations are not recorded (a term is a row key).
pub const MAX_TERM_CHARS: usize = 400;

/// The words as people typed them, folded: lowercase, single spaces.
fn words(q: &str) -> Option<String> {
    let folded = q
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    (!folded.is_empty()).then_some(folded)
}

/// The terms of a search with `total` results, `asked` being the parameters as sent and
/// `read` as the search applied them (`q`'s phrases turned into filters and a place).
pub fn terms(asked: &SearchParams, read: &SearchParams, total: u64) -> Vec<(DemandKind, String)> {
    if total >= FEW_RESULTS {
        return Vec::new();
    }
    let mut terms = Vec::with_capacity(3);
    if let Some(q) = asked.q.as_deref().and_then(words) {
        terms.push((DemandKind::Query, q));
    }
    // A point (`near=lat,lng`) has no name and may be someone's door: not recorded.
    if let Some(name) = read.place.as_ref().and_then(|p| p.name.clone()) {
        terms.push((DemandKind::Place, name));
    }
    if total == 0 {
        let filters = read.filters();
        // A state alone says no more than the place does.
        if filters.iter().any(|(name, _)| *name != "state") {
            let joined = filters
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&");
            terms.push((DemandKind::Filters, joined));
        }
    }
    terms.retain(|(_, term)| term.chars().count() <= MAX_TERM_CHARS);
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(query: &str) -> SearchParams {
        SearchParams::parse(query).unwrap()
    }

    #[test]
    fn a_search_that_found_enough_asks_for_nothing() {
        let p = parsed("q=anxiety&near=Austin,%20TX");
        assert!(terms(&p, &p, 5).is_empty());
    }

    #[test]
    fn a_search_that_found_little_gives_its_words_and_place() {
        let p = parsed("q=%20Ketamine%20%20Assisted&near=78701&modality=cbt");
        let found = terms(&p, &p, 2);
        assert_eq!(
            found[0],
            (DemandKind::Query, "ketamine assisted".to_owned())
        );
        assert_eq!(found[1].0, DemandKind::Place);
        assert!(found[1].1.starts_with("Austin, TX"), "{found:?}");
        assert_eq!(found.len(), 2, "filters only when nothing was found");
    }

    #[test]
    fn a_search_that_found_nothing_gives_its_filters_sorted_with_the_state() {
        let p = parsed("insurer=medicaid&language=vi&near=Texas&accepting=true");
        let found = terms(&p, &p, 0);
        let filters = found
            .iter()
            .find(|(k, _)| *k == DemandKind::Filters)
            .unwrap();
        assert_eq!(
            filters.1,
            "accepting=true&insurer=medicaid&language=vi&state=TX"
        );
    }

    #[test]
    fn a_point_is_never_recorded() {
        let p = parsed("near=30.2672,-97.7431");
        assert!(
            terms(&p, &p, 0)
                .iter()
                .all(|(k, _)| *k != DemandKind::Place)
        );
    }
}
