//! Checks JSON against Discord's published OpenAPI description (../shared/specs/discord-openapi.json).
//!
//! A small JSON Schema validator for the keywords that description uses: `$ref`, `type` (one or
//! several), `properties`, `required`, `additionalProperties`, `items`, `allOf`, `anyOf`, `oneOf`
//! (exactly one must match), `enum`, `const`, `minimum`/`maximum`, `minLength`/`maxLength`
//! (in characters), `pattern`, `minItems`/`maxItems`, `uniqueItems`, `maxProperties`. Formats
//! (`int32`, `date-time`, `uri`…) are not checked, except `snowflake`'s digits through its pattern.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::Value;

const SNOWFLAKE: &str = "#/components/schemas/SnowflakeType";
/// Marks a finding that is not a violation in a request (see [`Spec::validate_request`]).
const LENIENT: &str = "lenient: ";

pub struct Spec {
    doc: Value,
    regexes: Mutex<HashMap<String, regex::Regex>>,
}

/// An operation of the description: its path template and its object.
pub struct Operation<'a> {
    pub template: String,
    pub op: &'a Value,
}

impl Spec {
    pub fn load() -> Spec {
        // `shared/` lies beside the checkout, whichever crate includes this file.
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|dir| dir.join("shared/specs/discord-openapi.json"))
            .find(|p| p.is_file())
            .expect("shared/specs/discord-openapi.json beside the checkout");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Spec { doc: serde_json::from_str(&text).unwrap(), regexes: Mutex::new(HashMap::new()) }
    }

    /// The operation for `method` on `path` (`/channels/1/messages`); literal segments win over
    /// parameters (`messages/@original` over `messages/{message_id}`).
    pub fn operation(&self, method: &str, path: &str) -> Option<Operation<'_>> {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let mut best: Option<(usize, &String, &Value)> = None;
        for (template, item) in self.doc["paths"].as_object()? {
            let parts: Vec<&str> = template.trim_matches('/').split('/').collect();
            if parts.len() != segments.len() {
                continue;
            }
            let mut params = 0;
            let matches = parts.iter().zip(&segments).all(|(p, s)| {
                if p.starts_with('{') {
                    params += 1;
                    true
                } else {
                    p == s
                }
            });
            if !matches {
                continue;
            }
            let Some(op) = item.get(method.to_lowercase()) else { continue };
            if best.is_none_or(|(n, _, _)| params < n) {
                best = Some((params, template, op));
            }
        }
        best.map(|(_, template, op)| Operation { template: template.clone(), op })
    }

    /// The request body's schema for a content type (`application/json`, `multipart/form-data`).
    pub fn request_schema<'a>(&self, op: &'a Value, content_type: &str) -> Option<&'a Value> {
        op.get("requestBody")?.get("content")?.get(content_type)?.get("schema")
    }

    /// The JSON schema of the response with this status (`200`), if the description has one.
    pub fn response_schema<'a>(&'a self, op: &'a Value, status: u16) -> Option<&'a Value> {
        let response = op.get("responses")?.get(status.to_string())?;
        let response = self.deref(response);
        response.get("content")?.get("application/json")?.get("schema")
    }

    /// Whether the description declares this status for the operation.
    pub fn declares_status(&self, op: &Value, status: u16) -> bool {
        let responses = &op["responses"];
        responses.get(status.to_string()).is_some() || responses.get(format!("{}XX", status / 100)).is_some()
    }

    fn deref<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => self.resolve(r),
            None => schema,
        }
    }

    fn resolve(&self, reference: &str) -> &Value {
        let mut node = &self.doc;
        for part in reference.trim_start_matches("#/").split('/') {
            node = &node[part];
        }
        node
    }

    /// The schema named `name` under `components/schemas`.
    pub fn schema(&self, name: &str) -> &Value {
        &self.doc["components"]["schemas"][name]
    }

    /// Every violation of `schema` by `value`, each with its JSON path.
    pub fn validate(&self, schema: &Value, value: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.check(schema, value, "$", &mut errors, 0);
        errors.retain(|e| !e.starts_with(LENIENT));
        errors
    }

    /// [`Spec::validate`] for what a client sends, where Discord also takes a snowflake written as
    /// a JSON integer (serenity numbers new attachments `{"id": 0}`; the description says string).
    /// Returns the violations and the places where that leniency was used.
    pub fn validate_request(&self, schema: &Value, value: &Value) -> (Vec<String>, Vec<String>) {
        let mut errors = Vec::new();
        self.check(schema, value, "$", &mut errors, 0);
        let (lenient, errors): (Vec<String>, Vec<String>) = errors.into_iter().partition(|e| e.starts_with(LENIENT));
        (errors, lenient)
    }

    fn check(&self, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>, depth: usize) {
        if depth > 64 {
            errors.push(format!("{at}: schema nesting too deep"));
            return;
        }
        let Some(s) = schema.as_object() else { return };
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            if r == SNOWFLAKE && value.is_u64() {
                errors.push(format!("{LENIENT}{at}: integer snowflake {value}"));
                return;
            }
            self.check(self.resolve(r), value, at, errors, depth + 1);
        }
        if let Some(types) = s.get("type") {
            let ok = match types {
                Value::String(t) => type_ok(t, value),
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).any(|t| type_ok(t, value)),
                _ => true,
            };
            if !ok {
                errors.push(format!("{at}: {} is not of type {types}", short(value)));
                return;
            }
        }
        if let Some(all) = s.get("allOf").and_then(Value::as_array) {
            for sub in all {
                self.check(sub, value, at, errors, depth + 1);
            }
        }
        if let Some(any) = s.get("anyOf").and_then(Value::as_array) {
            let results: Vec<(Vec<String>, Vec<String>)> =
                any.iter().map(|sub| self.sub_errors(sub, value, at, depth)).collect();
            match results.iter().find(|(hard, _)| hard.is_empty()) {
                Some((_, lenient)) => errors.extend(lenient.iter().cloned()),
                None => errors.push(format!("{at}: matches none of anyOf: {}", closest(&results))),
            }
        }
        if let Some(one) = s.get("oneOf").and_then(Value::as_array) {
            let results: Vec<(Vec<String>, Vec<String>)> =
                one.iter().map(|sub| self.sub_errors(sub, value, at, depth)).collect();
            let matching: Vec<&(Vec<String>, Vec<String>)> =
                results.iter().filter(|(hard, _)| hard.is_empty()).collect();
            match matching.as_slice() {
                [(_, lenient)] => errors.extend(lenient.iter().cloned()),
                [] => errors.push(format!("{at}: matches none of oneOf: {}", closest(&results))),
                many => errors.push(format!("{at}: matches {} schemas of oneOf, one expected", many.len())),
            }
        }
        if let Some(options) = s.get("enum").and_then(Value::as_array)
            && !options.iter().any(|o| same(o, value))
        {
            errors.push(format!("{at}: {} is not one of {}", short(value), Value::Array(options.clone())));
        }
        if let Some(c) = s.get("const")
            && !same(c, value)
        {
            errors.push(format!("{at}: {} is not {c}", short(value)));
        }
        match value {
            Value::Number(n) => {
                let x = n.as_f64().unwrap_or_default();
                if let Some(min) = s.get("minimum").and_then(Value::as_f64)
                    && x < min
                {
                    errors.push(format!("{at}: {x} < minimum {min}"));
                }
                if let Some(max) = s.get("maximum").and_then(Value::as_f64)
                    && x > max
                {
                    errors.push(format!("{at}: {x} > maximum {max}"));
                }
            }
            Value::String(text) => {
                let len = text.chars().count() as u64;
                if let Some(min) = s.get("minLength").and_then(Value::as_u64)
                    && len < min
                {
                    errors.push(format!("{at}: {len} characters, fewer than {min}"));
                }
                if let Some(max) = s.get("maxLength").and_then(Value::as_u64)
                    && len > max
                {
                    errors.push(format!("{at}: {len} characters, more than {max}"));
                }
                if let Some(p) = s.get("pattern").and_then(Value::as_str)
                    && !self.matches(p, text)
                {
                    errors.push(format!("{at}: {text:?} does not match {p}"));
                }
            }
            Value::Array(items) => {
                let n = items.len() as u64;
                if let Some(min) = s.get("minItems").and_then(Value::as_u64)
                    && n < min
                {
                    errors.push(format!("{at}: {n} items, fewer than {min}"));
                }
                if let Some(max) = s.get("maxItems").and_then(Value::as_u64)
                    && n > max
                {
                    errors.push(format!("{at}: {n} items, more than {max}"));
                }
                if s.get("uniqueItems").and_then(Value::as_bool) == Some(true) {
                    for (i, a) in items.iter().enumerate() {
                        if items.iter().skip(i + 1).any(|b| same(a, b)) {
                            errors.push(format!("{at}: items repeat ({})", short(a)));
                            break;
                        }
                    }
                }
                if let Some(item) = s.get("items") {
                    for (i, v) in items.iter().enumerate() {
                        self.check(item, v, &format!("{at}[{i}]"), errors, depth + 1);
                    }
                }
            }
            Value::Object(map) => {
                let props = s.get("properties").and_then(Value::as_object);
                if let Some(required) = s.get("required").and_then(Value::as_array) {
                    for r in required.iter().filter_map(Value::as_str) {
                        if !map.contains_key(r) {
                            errors.push(format!("{at}: missing required property {r:?}"));
                        }
                    }
                }
                if let Some(max) = s.get("maxProperties").and_then(Value::as_u64)
                    && map.len() as u64 > max
                {
                    errors.push(format!("{at}: {} properties, more than {max}", map.len()));
                }
                for (k, v) in map {
                    match props.and_then(|p| p.get(k)) {
                        Some(sub) => self.check(sub, v, &format!("{at}.{k}"), errors, depth + 1),
                        None => match s.get("additionalProperties") {
                            Some(Value::Bool(false)) => errors.push(format!("{at}: unknown property {k:?}")),
                            Some(sub @ Value::Object(_)) => {
                                self.check(sub, v, &format!("{at}.{k}"), errors, depth + 1);
                            }
                            _ => {}
                        },
                    }
                }
            }
            _ => {}
        }
    }

    /// An alternative's violations, and apart its lenient findings.
    fn sub_errors(&self, schema: &Value, value: &Value, at: &str, depth: usize) -> (Vec<String>, Vec<String>) {
        let mut errors = Vec::new();
        self.check(schema, value, at, &mut errors, depth + 1);
        let (lenient, hard) = errors.into_iter().partition(|e| e.starts_with(LENIENT));
        (hard, lenient)
    }

    fn matches(&self, pattern: &str, text: &str) -> bool {
        let mut cache = self.regexes.lock().unwrap();
        let re = cache.entry(pattern.to_owned()).or_insert_with(|| regex::Regex::new(pattern).unwrap());
        re.is_match(text)
    }
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        "number" => v.is_number(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => true,
    }
}

/// JSON equality where 1 and 1.0 are the same number.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 { format!("{}…", s.chars().take(80).collect::<String>()) } else { s }
}

/// The errors of the alternative that came closest, to say why none matched: Discord's unions
/// are told apart by `type`, so an alternative whose `type` fits is the one meant.
fn closest(results: &[(Vec<String>, Vec<String>)]) -> String {
    let wrong_type = |r: &Vec<String>| r.iter().any(|e| e.contains(".type: ") && e.contains("is not one of"));
    results
        .iter()
        .map(|(hard, _)| hard)
        .min_by_key(|r| (wrong_type(r), r.len()))
        .map(|r| r.join("; "))
        .unwrap_or_default()
}
