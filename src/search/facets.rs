//! Facet counts over a search's matches, exact: from the facet numbers of the index
//! (`codes`), and for a value they leave uncounted by intersecting its bitmap with the
//! matches.

use roaring::RoaringBitmap;
use serde_json::{Map, Value, json};

use super::codes::Counting;
use super::index::{FacetTag, Field, Index, Kind};
use super::params::Facet;

fn tag(facet: Facet) -> FacetTag {
    match facet {
        Facet::Modality => FacetTag::Modality,
        Facet::Specialty => FacetTag::Specialty,
        Facet::Insurer => FacetTag::Insurer,
        Facet::Delivery => FacetTag::Delivery,
        Facet::SessionFormat => FacetTag::SessionFormat,
    }
}

/// Facet counts over `matched`, each list by count (highest first), then slug; each value
/// named in English, or Spanish when `spanish`.
pub fn facets(index: &Index, requested: &[Facet], matched: &RoaringBitmap, spanish: bool) -> Value {
    let mut counted = facets_counted(index, requested, matched, Some(Counting::for_docs(matched)));
    name(index, &mut counted, spanish);
    counted
}

/// Adds each value's `name`: a term's name, or a delivery or format's label.
fn name(index: &Index, facets: &mut Value, spanish: bool) {
    let Some(facets) = facets.as_object_mut() else {
        return;
    };
    for (facet, list) in facets.iter_mut() {
        let kind = match facet.as_str() {
            "modality" => Some(Kind::Modality),
            "specialty" => Some(Kind::Specialty),
            "insurer" => Some(Kind::Insurer),
            _ => None,
        };
        for entry in list.as_array_mut().into_iter().flatten() {
            let slug = entry["slug"].as_str().unwrap_or_default();
            let name = match kind {
                Some(kind) => index
                    .taxonomy
                    .terms(kind)
                    .iter()
                    .find(|t| t.slug == slug)
                    .map_or_else(|| slug.to_owned(), |t| t.label(spanish).to_owned()),
                None => super::text::value_label(facet, slug, spanish),
            };
            entry["name"] = Value::from(name);
        }
    }
}

/// Facet counts read from the facet numbers the way `how` says, or (`None`, in tests) from
/// the bitmaps alone.
fn facets_counted(
    index: &Index,
    requested: &[Facet],
    matched: &RoaringBitmap,
    how: Option<Counting>,
) -> Value {
    let mut out = Map::new();
    let numbered = how.filter(|_| !requested.is_empty()).map(|how| {
        let tags: Vec<FacetTag> = requested.iter().map(|&f| tag(f)).collect();
        index.facet_codes.count(matched, how, &tags)
    });
    let counted = |facet: Facet, value: u32, bitmap: Option<&RoaringBitmap>| -> u64 {
        numbered
            .as_ref()
            .and_then(|counts| counts.get((tag(facet), value)))
            .unwrap_or_else(|| bitmap.map_or(0, |b| b.intersection_len(matched)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::fixtures::{entry, index_of};
    use crate::search::index::Entry;

    #[test]
    fn facets_counted_from_numbers_either_way_equal_facets_counted_by_bitmap() {
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
            let by_bitmap = facets_counted(&index, &requested, &matched, None);
            for how in [Counting::PerDocument, Counting::Columns] {
                assert_eq!(
                    facets_counted(&index, &requested, &matched, Some(how)),
                    by_bitmap
                );
            }
            assert_eq!(by_bitmap["modality"][0]["slug"], "emdr");
            assert_eq!(by_bitmap["delivery"].as_array().map(Vec::len), Some(3));
        }
    }
}
