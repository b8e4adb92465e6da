//! `GET /v1/admin/insights/searches`: what visitors search for, and what they do not find.

use actix_web::web::Data;
use actix_web::{HttpResponse, get};

use crate::auth::AdminUser;
use crate::clock::Clock;
use crate::http::query::Query;
use crate::http::{Db, Reply};
use crate::stats::model::{DateRange, RangeQuery, SearchInsights};
use crate::stats::store;

/// Searches per UTC day (zeros included), and the searches that found nothing or fewer
/// than five listings: their words, their places, and the filter combinations that found
/// nothing, the 25 of each sent by the most client networks. A search is shown only for the
/// days on which at least five distinct networks (IPv4 /24, IPv6 /56) sent it, so no one
/// person's words appear. Nothing identifying a visitor is stored (docs/engagement.md).
#[utoipa::path(
    operation_id = "admin_get_search_insights",
    security(("bearer" = [])),
    params(RangeQuery),
    responses(
        (status = 200, body = SearchInsights),
        (status = 400, description = "`invalid_parameter`: a date that is not YYYY-MM-DD, `from` after `to`, or more than 366 days"),
    )
)]
#[get("/admin/insights/searches")]
pub async fn search_insights(
    _admin: AdminUser,
    query: Query<RangeQuery>,
    pool: Db,
    clock: Data<Clock>,
) -> Reply {
    let range = DateRange::from_query(&query.0, clock.now().date())?;
    Ok(HttpResponse::Ok().json(store::search_insights(pool.get_ref(), range).await?))
}
