//! The language of an answer: English, or Spanish for `Accept-Language: es` (taxonomy
//! names, facet and suggestion labels). Negotiated by quality values over the two the
//! service speaks (`es-MX` counts as `es`); English when neither is asked for.

use actix_web::HttpRequest;
use actix_web::http::header;

/// The request header, as the OpenAPI document lists it on every operation that reads it.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // read by the OpenAPI annotations only
pub struct AcceptLanguage {
    /// `es` (or `es-MX`, preferred by quality over `en`) names terms, facet values and
    /// suggestions in Spanish; the answer's `Content-Language` says which language it is in.
    #[param(rename = "Accept-Language", example = "es")]
    accept_language: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Es,
}

impl Lang {
    pub fn from_request(req: &HttpRequest) -> Lang {
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map_or(Lang::En, Lang::negotiate)
    }

    /// The preferred of English and Spanish in an `Accept-Language` value; on a tie, the one
    /// listed first.
    pub fn negotiate(value: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for range in value.split(',').take(32) {
            let mut parts = range.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = parts
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let lang = match tag.split('-').next() {
                Some("es") => Lang::Es,
                Some("en") => Lang::En,
                _ => continue,
            };
            if quality > 0.0 && best.is_none_or(|(q, _)| quality > q) {
                best = Some((quality, lang));
            }
        }
        best.map_or(Lang::En, |(_, lang)| lang)
    }

    /// The `Content-Language` of an answer in this language.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation() {
        assert_eq!(Lang::negotiate("es"), Lang::Es);
        assert_eq!(Lang::negotiate("es-MX,es;q=0.9,en;q=0.8"), Lang::Es);
        assert_eq!(Lang::negotiate("en-US,en;q=0.9,es;q=0.8"), Lang::En);
        assert_eq!(Lang::negotiate("fr,es;q=0.5"), Lang::Es);
        assert_eq!(Lang::negotiate("fr"), Lang::En);
        assert_eq!(Lang::negotiate("es;q=0"), Lang::En);
        assert_eq!(Lang::negotiate("en;q=0.5, es;q=0.7"), Lang::Es);
        assert_eq!(Lang::negotiate(""), Lang::En);
    }
}
