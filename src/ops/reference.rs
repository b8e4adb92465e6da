//! Renders the OpenAPI document as one self-contained HTML page. It is built on the server
//! from the same document `/openapi.json` serves, loads nothing from anywhere, and also
//! carries the error-code table that every problem's `type` links to.

use std::fmt::Write;

use serde_json::Value;

use crate::error::ErrorCode;

const STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#1d2430}\
code,pre{font-family:ui-monospace,monospace;font-size:13px}pre{background:#f4f6f8;padding:.6rem;overflow:auto}\
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem}td,th{border:1px solid #d8dde3;padding:.25rem .5rem;text-align:left;vertical-align:top}\
.op{border-top:2px solid #d8dde3;padding-top:.6rem;margin-top:1.4rem}.m{display:inline-block;min-width:4.5rem;font-weight:700;text-transform:uppercase}\
.get{color:#0b6e4f}.post{color:#1f5fa8}.patch{color:#8a5a00}.put{color:#8a5a00}.delete{color:#a8201a}nav li{list-style:none}";

pub fn render(doc: &Value) -> String {
    let mut html = String::with_capacity(64 * 1024);
    let title = text(&doc["info"]["title"]);
    let version = text(&doc["info"]["version"]);
    let _ = write!(
        html,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t} — API reference</title>\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><style>{STYLE}</style></head><body>\
         <h1>{t} <small>{v}</small></h1><p>{d}</p><p>Machine-readable: <a href=\"/openapi.json\">/openapi.json</a> (OpenAPI {o}).</p>",
        t = esc(&title),
        v = esc(&version),
        d = esc(&text(&doc["info"]["description"])),
        o = esc(&text(&doc["openapi"])),
    );

    let operations = operations(doc);
    html.push_str("<h2>Operations</h2><nav><ul>");
    for op in &operations {
        let _ = write!(
            html,
            "<li><a href=\"#{id}\"><span class=\"m {m}\">{m}</span> <code>{p}</code></a> {s}</li>",
            id = op.anchor(),
            m = op.method,
            p = esc(&op.path),
            s = esc(&text(&op.body["summary"])),
        );
    }
    html.push_str("</ul></nav>");

    for op in &operations {
        render_operation(&mut html, op);
    }

    html.push_str("<h2 id=\"errors\">Error codes</h2><p>Every error is <code>application/problem+json</code> \
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
    html.push_str("</table>");

    if let Some(schemas) = doc["components"]["schemas"].as_object() {
        html.push_str("<h2>Schemas</h2>");
        for (name, schema) in schemas {
            let _ = write!(html, "<h3 id=\"schema-{n}\">{n}</h3>", n = esc(name));
            render_schema(&mut html, schema);
        }
    }
    html.push_str("</body></html>");
    html
}

struct Operation<'a> {
    method: &'static str,
    path: String,
    body: &'a Value,
}

impl Operation<'_> {
    fn anchor(&self) -> String {
        let slug: String = self
            .path
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        format!("op-{}{slug}", self.method)
    }
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

fn render_operation(html: &mut String, op: &Operation<'_>) {
    let _ = write!(
        html,
        "<section class=\"op\" id=\"{id}\"><h3><span class=\"m {m}\">{m}</span> <code>{p}</code></h3><p><b>{s}</b></p><p>{d}</p>",
        id = op.anchor(),
        m = op.method,
        p = esc(&op.path),
        s = esc(&text(&op.body["summary"])),
        d = esc(&text(&op.body["description"])).replace("\n\n", "</p><p>"),
    );
    if op.body["security"]
        .as_array()
        .is_some_and(|s| !s.is_empty())
    {
        html.push_str("<p>Requires <code>Authorization: Bearer &lt;access token&gt;</code>.</p>");
    }
    if let Some(params) = op.body["parameters"].as_array() {
        html.push_str("<table><tr><th>parameter</th><th>in</th><th>type</th><th>required</th><th>description</th></tr>");
        for p in params {
            let _ = write!(
                html,
                "<tr><td><code>{n}</code></td><td>{i}</td><td>{t}</td><td>{r}</td><td>{d}</td></tr>",
                n = esc(&text(&p["name"])),
                i = esc(&text(&p["in"])),
                t = type_of(&p["schema"]),
                r = if p["required"].as_bool() == Some(true) {
                    "yes"
                } else {
                    "no"
                },
                d = esc(&text(&p["description"])),
            );
        }
        html.push_str("</table>");
    }
    if let Some(content) = op.body["requestBody"]["content"].as_object() {
        for (media, body) in content {
            let _ = write!(
                html,
                "<p>Request body (<code>{}</code>): {}</p>",
                esc(media),
                type_of(&body["schema"])
            );
        }
    }
    if let Some(responses) = op.body["responses"].as_object() {
        html.push_str("<table><tr><th>status</th><th>description</th><th>body</th></tr>");
        for (status, response) in responses {
            let bodies = response["content"]
                .as_object()
                .map(|c| {
                    c.iter()
                        .map(|(media, b)| {
                            format!("<code>{}</code> {}", esc(media), type_of(&b["schema"]))
                        })
                        .collect::<Vec<_>>()
                        .join("<br>")
                })
                .unwrap_or_default();
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{}</td><td>{bodies}</td></tr>",
                esc(status),
                esc(&text(&response["description"])),
            );
        }
        html.push_str("</table>");
    }
    html.push_str("</section>");
}

fn render_schema(html: &mut String, schema: &Value) {
    let description = text(&schema["description"]);
    if !description.is_empty() {
        let _ = write!(html, "<p>{}</p>", esc(&description));
    }
    let Some(properties) = schema["properties"].as_object() else {
        let _ = write!(html, "<p>{}</p>", type_of(schema));
        return;
    };
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    html.push_str(
        "<table><tr><th>field</th><th>type</th><th>required</th><th>description</th></tr>",
    );
    for (name, property) in properties {
        let _ = write!(
            html,
            "<tr><td><code>{n}</code></td><td>{t}</td><td>{r}</td><td>{d}</td></tr>",
            n = esc(name),
            t = type_of(property),
            r = if required.contains(&name.as_str()) {
                "yes"
            } else {
                "no"
            },
            d = esc(&text(&property["description"])),
        );
    }
    html.push_str("</table>");
}

/// A short human description of a schema: `string (uuid)`, `array of Office`, `one of …`.
fn type_of(schema: &Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        return format!("<a href=\"#schema-{n}\">{n}</a>", n = esc(name));
    }
    for combinator in ["oneOf", "anyOf", "allOf"] {
        if let Some(parts) = schema[combinator].as_array() {
            let joiner = if combinator == "allOf" {
                " and "
            } else {
                " | "
            };
            return parts.iter().map(type_of).collect::<Vec<_>>().join(joiner);
        }
    }
    let mut out = match &schema["type"] {
        Value::String(t) if t == "array" => format!("array of {}", type_of(&schema["items"])),
        Value::String(t) => esc(t),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .map(|t| {
                if t == "array" {
                    format!("array of {}", type_of(&schema["items"]))
                } else {
                    esc(t)
                }
            })
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "any".to_owned(),
    };
    if let Some(format) = schema["format"].as_str() {
        let _ = write!(out, " ({})", esc(format));
    }
    if let Some(values) = schema["enum"].as_array() {
        let listed: Vec<String> = values
            .iter()
            .map(|v| format!("<code>{}</code>", esc(v.to_string().trim_matches('"'))))
            .collect();
        let _ = write!(out, ": {}", listed.join(", "));
    }
    let mut limits = Vec::new();
    for (key, label) in [
        ("minimum", "min"),
        ("maximum", "max"),
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("maxItems", "max items"),
    ] {
        if let Some(v) = schema.get(key).filter(|v| !v.is_null()) {
            limits.push(format!("{label} {v}"));
        }
    }
    if !limits.is_empty() {
        let _ = write!(out, " [{}]", limits.join(", "));
    }
    out
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
            "paths": {"/a": {"get": {"summary": "s", "responses": {"200": {"description": "<b>"}}}}}
        });
        let html = render(&doc);
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;b&gt;"));
        assert!(html.contains("id=\"error-not_found\""));
    }
}
