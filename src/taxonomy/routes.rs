//! `GET /v1/modalities`, `/v1/specialties`, `/v1/insurers`: the active (not retired) terms,
//! named in Spanish for `Accept-Language: es` (the English name where a term has none).

use crate::db::read::ReadPool;
use actix_web::web::Data;
use actix_web::{HttpRequest, get};

use super::{Insurer, Modality, Specialty, store};
use crate::http::Reply;
use crate::http::caching::{PUBLIC_LONG, cached_json_in};
use crate::http::language::{AcceptLanguage, Lang};

/// Therapy modalities (approaches), e.g. imago, cbt, dbt, act, emdr.
#[utoipa::path(
    params(AcceptLanguage,),
    responses((status = 200, body = Vec<Modality>), (status = 304, description = "Not modified (If-None-Match)"))
)]
#[get("/modalities")]
pub async fn list_modalities(req: HttpRequest, reads: Data<ReadPool>) -> Reply {
    let lang = Lang::from_request(&req);
    let terms = store::active_modalities(reads.get(), lang == Lang::Es).await?;
    cached_json_in(&req, &terms, PUBLIC_LONG, lang)
}

/// Specialties (conditions and concerns a therapist works with), with their category.
#[utoipa::path(
    params(AcceptLanguage,),
    responses((status = 200, body = Vec<Specialty>), (status = 304, description = "Not modified (If-None-Match)"))
)]
#[get("/specialties")]
pub async fn list_specialties(req: HttpRequest, reads: Data<ReadPool>) -> Reply {
    let lang = Lang::from_request(&req);
    let terms = store::active_specialties(reads.get(), lang == Lang::Es).await?;
    cached_json_in(&req, &terms, PUBLIC_LONG, lang)
}

/// Insurers whose plans listings may accept.
#[utoipa::path(
    params(AcceptLanguage,),
    responses((status = 200, body = Vec<Insurer>), (status = 304, description = "Not modified (If-None-Match)"))
)]
#[get("/insurers")]
pub async fn list_insurers(req: HttpRequest, reads: Data<ReadPool>) -> Reply {
    let lang = Lang::from_request(&req);
    let terms = store::active_insurers(reads.get(), lang == Lang::Es).await?;
    cached_json_in(&req, &terms, PUBLIC_LONG, lang)
}
