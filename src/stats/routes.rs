//! `GET /v1/me/stats`: a therapist's own listing, day by day.

use actix_web::web::Data;
use actix_web::{HttpResponse, get};

use super::model::{DateRange, ListingStats, RangeQuery};
use super::store;
use crate::auth::TherapistUser;
use crate::clock::Clock;
use crate::error::ApiError;
use crate::http::query::Query;
use crate::http::{Db, Reply};

/// The listing's profile views, search appearances and inquiries per UTC day, with totals.
///
/// Every day of the range has a row (zeros included). A view is a GET of the public profile
/// (answered 304 or not) by anyone but the listing's owner; HEAD requests and known crawlers
/// are not counted. An appearance is a place on a result page served. Counts reach this
/// report within about ten seconds; they are kept for 400 days.
#[utoipa::path(
    operation_id = "get_my_stats",
    security(("bearer" = [])),
    params(RangeQuery),
    responses(
        (status = 200, body = ListingStats),
        (status = 400, description = "`invalid_parameter`: a date that is not YYYY-MM-DD, `from` after `to`, or more than 366 days"),
        (status = 403, description = "Not a therapist account"),
        (status = 404, description = "`not_found`: the account has no listing"),
    )
)]
#[get("/me/stats")]
pub async fn get_my_stats(
    user: TherapistUser,
    query: Query<RangeQuery>,
    pool: Db,
    clock: Data<Clock>,
) -> Reply {
    let range = DateRange::from_query(&query.0, clock.now().date())?;
    let days = store::listing_days(pool.get_ref(), user.0.account_id, range)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok().json(ListingStats::zero_filled(range, days)))
}
