//! The days a report covers and what the reports answer.

use serde::{Deserialize, Serialize};
use time::Date;
use time::macros::format_description;
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

/// The longest range one report covers, in days, both ends counted.
pub const MAX_DAYS: i64 = 366;
/// The range without `from` and `to`: the last 30 days, today included.
pub const DEFAULT_DAYS: i64 = 30;
/// How long daily counts are kept (a year, and a month to compare it with).
pub const KEEP_DAYS: i64 = 400;
/// A search that found fewer listings than this found "little".
pub const FEW_RESULTS: u64 = 5;
/// Searches are shown to admins only when at least this many client networks sent them.
pub const MIN_NETWORKS: i32 = 5;

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD`, both optional.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// First day (UTC), included, as YYYY-MM-DD. Default: 29 days before `to`.
    #[param(format = Date, example = "2026-11-01")]
    from: Option<String>,
    /// Last day (UTC), included, as YYYY-MM-DD; at most 366 days after `from`. Default:
    /// today.
    #[param(format = Date, example = "2026-11-30")]
    to: Option<String>,
}

/// UTC days from `from` to `to`, both included, at most [`MAX_DAYS`] of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub from: Date,
    pub to: Date,
}

fn day(name: &str, value: &str) -> Result<Date, ApiError> {
    Date::parse(value, format_description!("[year]-[month]-[day]"))
        .map_err(|_| ApiError::parameter(name, "expected a date as YYYY-MM-DD"))
}

impl DateRange {
    /// The range a query asks for, `today` being the last day by default.
    pub fn from_query(query: &RangeQuery, today: Date) -> Result<DateRange, ApiError> {
        let to = query.to.as_deref().map(|v| day("to", v)).transpose()?;
        let from = query.from.as_deref().map(|v| day("from", v)).transpose()?;
        let days_before = |end: Date| end - time::Duration::days(DEFAULT_DAYS - 1);
        let (from, to) = match (from, to) {
            (Some(from), Some(to)) => (from, to),
            (Some(from), None) => (from, today.max(from)),
            (None, Some(to)) => (days_before(to), to),
            (None, None) => (days_before(today), today),
        };
        if from > to {
            return Err(ApiError::parameter("from", "must not be after `to`"));
        }
        if (to - from).whole_days() + 1 > MAX_DAYS {
            return Err(ApiError::parameter(
                "to",
                format!("at most {MAX_DAYS} days after `from`, both included"),
            ));
        }
        Ok(DateRange { from, to })
    }

    /// Every day of the range, in order.
    pub fn days(self) -> impl Iterator<Item = Date> {
        std::iter::successors(Some(self.from), move |d| {
            d.next_day().filter(|n| *n <= self.to)
        })
    }
}

/// What the directory did for a listing on one day (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct ListingDay {
    #[schema(value_type = String, format = Date, example = "2026-11-30")]
    pub date: Date,
    /// GETs of the public profile by anyone but its owner (answers 304 included; HEAD
    /// requests and known crawlers are not counted).
    #[schema(minimum = 0)]
    pub profile_views: i64,
    /// Places on result pages served (every page of a search counts its own).
    #[schema(minimum = 0)]
    pub search_appearances: i64,
    /// Inquiries received.
    #[schema(minimum = 0)]
    pub inquiries: i64,
}

/// The sums over the range.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ListingTotals {
    #[schema(minimum = 0)]
    pub profile_views: i64,
    #[schema(minimum = 0)]
    pub search_appearances: i64,
    #[schema(minimum = 0)]
    pub inquiries: i64,
}

/// A listing's statistics, one row per day of the range (days without any are zeros).
/// Counts reach the database every ten seconds, so the last few seconds may be missing.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListingStats {
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    pub days: Vec<ListingDay>,
    pub totals: ListingTotals,
}

/// One value per day of `range`: the counted ones, `empty(day)` for the others.
/// `counted` is in day order, within the range.
pub fn every_day<T>(
    range: DateRange,
    counted: Vec<T>,
    date_of: impl Fn(&T) -> Date,
    empty: impl Fn(Date) -> T,
) -> Vec<T> {
    let mut counted = counted.into_iter().peekable();
    range
        .days()
        .map(|date| {
            counted
                .next_if(|d| date_of(d) == date)
                .unwrap_or_else(|| empty(date))
        })
        .collect()
}

impl ListingStats {
    /// Every day of `range`, from the days that have counts.
    pub fn zero_filled(range: DateRange, counted: Vec<ListingDay>) -> ListingStats {
        let empty = |date| ListingDay {
            date,
            profile_views: 0,
            search_appearances: 0,
            inquiries: 0,
        };
        let days = every_day(range, counted, |d| d.date, empty);
        let totals = days
            .iter()
            .fold(ListingTotals::default(), |t, d| ListingTotals {
                profile_views: t.profile_views + d.profile_views,
                search_appearances: t.search_appearances + d.search_appearances,
                inquiries: t.inquiries + d.inquiries,
            });
        ListingStats {
            from: range.from,
            to: range.to,
            days,
            totals,
        }
    }
}

/// What a search that found little asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "search_demand_kind", rename_all = "snake_case")]
pub enum DemandKind {
    /// The words of `q`, lowercased.
    Query,
    /// The place searched around (`near`, or a place named in `q`).
    Place,
    /// The filters combined, as `name=value` pairs joined by `&` (searches that found
    /// nothing only).
    Filters,
}

impl DemandKind {
    pub const ALL: [DemandKind; 3] = [DemandKind::Query, DemandKind::Place, DemandKind::Filters];

    pub fn as_str(self) -> &'static str {
        match self {
            DemandKind::Query => "query",
            DemandKind::Place => "place",
            DemandKind::Filters => "filters",
        }
    }
}

/// Searches on one day (UTC); a cursor's next page is not another search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct SearchDay {
    #[schema(value_type = String, format = Date)]
    pub date: Date,
    #[schema(minimum = 0)]
    pub searches: i64,
    /// Searches that found no listing.
    #[schema(minimum = 0)]
    pub without_results: i64,
    /// Searches that found one to four listings.
    #[schema(minimum = 0)]
    pub with_few_results: i64,
}

/// A search visitors make that finds nothing or little.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct UnmetSearch {
    /// The words, the place, or the filters (`insurer=medicaid&language=vi&state=TX`).
    #[schema(example = "language=vi&state=TX")]
    pub term: String,
    /// Searches for it that found fewer than five listings, over the days it is shown for.
    #[schema(minimum = 0)]
    pub searches: i64,
    /// Of those, the ones that found nothing.
    #[schema(minimum = 0)]
    pub without_results: i64,
    /// Distinct client networks (IPv4 /24, IPv6 /56) that sent it, added up over its days:
    /// networks are told apart within a day, not across days.
    #[schema(minimum = 5)]
    pub networks: i64,
    /// Days of the range on which at least five networks sent it; other days do not count.
    #[schema(minimum = 1)]
    pub days: i64,
}

/// Searches per day, and what visitors look for and do not find. A search's words, place
/// or filters appear only for the days on which at least `min_networks` client networks
/// sent them, so no single person's words are shown; the day still under way is included.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchInsights {
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    /// One row per day of the range (zeros where nothing was searched).
    pub days: Vec<SearchDay>,
    /// The words of searches that found fewer than five listings, most networks first.
    pub queries: Vec<UnmetSearch>,
    /// The places of searches that found fewer than five listings, most networks first.
    pub places: Vec<UnmetSearch>,
    /// The filter combinations of searches that found nothing, most networks first.
    pub filters: Vec<UnmetSearch>,
    /// The fewest distinct networks behind a shown search, on each of its days.
    #[schema(example = 5)]
    pub min_networks: i32,
}

/// How many searches of each kind an insights report lists.
pub const TOP_SEARCHES: i64 = 25;

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn range(from: Option<&str>, to: Option<&str>) -> Result<DateRange, ApiError> {
        let query = RangeQuery {
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
        };
        DateRange::from_query(&query, date!(2026 - 12 - 06))
    }

    #[test]
    fn ranges_default_to_the_last_thirty_days_and_hold_at_most_a_leap_year() {
        let last_30 = range(None, None).unwrap();
        assert_eq!(
            (last_30.from, last_30.to),
            (date!(2026 - 11 - 07), date!(2026 - 12 - 06))
        );
        assert_eq!(last_30.days().count(), 30);
        let year = range(Some("2024-01-01"), Some("2024-12-31")).unwrap();
        assert_eq!(year.days().count(), 366);
        assert!(range(Some("2024-01-01"), Some("2025-01-01")).is_err());
        assert!(range(Some("2026-12-07"), Some("2026-12-06")).is_err());
        assert!(range(Some("2026-13-01"), None).is_err());
        assert!(range(None, Some("yesterday")).is_err());
        let one = range(Some("2026-12-06"), Some("2026-12-06")).unwrap();
        assert_eq!(one.days().collect::<Vec<_>>(), vec![date!(2026 - 12 - 06)]);
    }

    #[test]
    fn days_without_counts_are_zeros_and_totals_add_up() {
        let range = range(Some("2026-12-01"), Some("2026-12-04")).unwrap();
        let counted = vec![
            ListingDay {
                date: date!(2026 - 12 - 02),
                profile_views: 3,
                search_appearances: 10,
                inquiries: 1,
            },
            ListingDay {
                date: date!(2026 - 12 - 04),
                profile_views: 2,
                search_appearances: 5,
                inquiries: 0,
            },
        ];
        let stats = ListingStats::zero_filled(range, counted);
        assert_eq!(stats.days.len(), 4);
        assert_eq!(stats.days[0].profile_views, 0);
        assert_eq!(stats.days[1].search_appearances, 10);
        assert_eq!(
            stats.totals,
            ListingTotals {
                profile_views: 5,
                search_appearances: 15,
                inquiries: 1
            }
        );
    }
}
