//! `/docs`: the interactive API reference (Redoc, its JavaScript vendored in
//! `vendor/redoc/` from the npm package `redoc@2.5.2` and served by this binary, so it
//! works offline and loads nothing from elsewhere), reading `/openapi.json`. The page also
//! carries, without scripts, the list of operations and the error-code table that every
//! problem's `type` links to (`/docs#error-<code>`).

use std::fmt::Write;

use serde_json::Value;

use crate::error::ErrorCode;

/// Redoc's standalone bundle (MIT; licence beside it).
pub const REDOC_JS: &str = include_str!("../../vendor/redoc/redoc.standalone.js");

/// Starts Redoc on the page; a file of its own so the page's CSP needs no inline script.
pub const INIT_JS: &str = "Redoc.init('/openapi.json', {\n  expandResponses: '200,201,202',\n  jsonSampleExpandLevel: 3,\n  hideHostname: true,\n  sortPropsAlphabetically: false\n}, document.getElementById('redoc'));\n";

/// Only this origin's scripts, styles Redoc injects, and its search worker (a blob).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; \
base-uri 'none'; frame-ancestors 'none'";

const STYLE: &str = "body{margin:0;font:15px/1.5 system-ui,sans-serif;color:#1d2430}\
.plain{max-width:70rem;margin:2rem auto;padding:0 1rem}code{font-family:ui-monospace,monospace;font-size:13px}\
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem}td,th{border:1px solid #d8dde3;padding:.25rem .5rem;text-align:left;vertical-align:top}\
nav li{list-style:none}";

pub fn render(doc: &Value) -> String {
    let mut html = String::with_capacity(16 * 1024);
    let title = text(&doc["info"]["title"]);
    let version = text(&doc["info"]["version"]);
    let _ = write!(
        html,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t} {v} — API reference</title>\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><style>{STYLE}</style></head><body>\
         <div id=\"redoc\"></div><noscript><div class=\"plain\"><h1>{t} <small>{v}</small></h1>\
         <p>The interactive reference needs JavaScript. The document itself: <a href=\"/openapi.json\">/openapi.json</a> (OpenAPI {o}).</p>\
         <h2>Operations</h2><nav><ul>",
        t = esc(&title),
        v = esc(&version),
        o = esc(&text(&doc["openapi"])),
    );
    for op in operations(doc) {
        let _ = write!(
            html,
            "<li><code>{m}</code> <code>{p}</code> {s}</li>",
            m = op.method.to_ascii_uppercase(),
            p = esc(&op.path),
            s = esc(&text(&op.body["summary"])),
        );
    }
    html.push_str("</ul></nav></div></noscript>");

    html.push_str("<section class=\"plain\"><h2 id=\"errors\">Error codes</h2><p>Every error is <code>application/problem+json</code> \
        with <code>type</code>, <code>title</code>, <code>status</code>, <code>detail</code>, <code>code</code>, \
        <code>request_id</code> and, for invalid input, <code>errors</code> (<code>field</code>, <code>code</code>, \
        <code>message</code>).</p><table><tr><th>code</th><th>status</th><th>meaning</th></tr>");
    for code in ErrorCode::ALL {
        let _ = write!(
            html,
            "<tr id=\"error-{c}\"><td><code>{c}</code></td><td>{s}</td><td>{t}</td></tr>",
            c = code.as_str(),
            s = code.status().as_u16(),
            t = esc(code.title()),
        );
    }
    html.push_str("</table></section>\
        <script src=\"/docs/redoc.standalone.js\"></script><script src=\"/docs/init.js\"></script></body></html>");
    html
}

struct Operation<'a> {
    method: &'static str,
    path: String,
    body: &'a Value,
}

fn operations(doc: &Value) -> Vec<Operation<'_>> {
    let mut ops = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in ["get", "post", "put", "patch", "delete"] {
                if let Some(body) = item.get(method) {
                    ops.push(Operation {
                        method,
                        path: path.clone(),
                        body,
                    });
                }
            }
        }
    }
    ops
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_from_the_document() {
        let doc = serde_json::json!({
            "openapi": "3.1.0",
            "info": {"title": "<script>x</script>", "version": "1"},
            "paths": {"/a": {"get": {"summary": "<b>s</b>", "responses": {"200": {"description": "d"}}}}}
        });
        let html = render(&doc);
        assert!(!html.contains("<script>x"));
        assert!(html.contains("&lt;b&gt;s"));
        assert!(html.contains("id=\"error-not_found\""));
    }
}
