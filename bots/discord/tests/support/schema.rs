//! Checks JSON against Discord's published OpenAPI description (../shared/specs/discord-openapi.json).
//!
//! The description's schemas are JSON Schema 2020-12 (OpenAPI 3.1), checked with the `jsonschema`
//! crate; `$ref`s into the description's components are resolved against the whole document.
//! Formats (`int32`, `date-time`, `uri`…) are annotations there, not checked; a snowflake's digits
//! are, through its pattern.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

pub struct Spec {
    doc: Value,
    /// The description where a snowflake may also be a JSON integer (see [`Spec::validate_request`]).
    lenient_doc: Value,
    /// Compiled validators by (lenient, schema text): compiling against the 1 MB document is the
    /// costly part, and the bot sends the same few bodies again and again.
    validators: Mutex<HashMap<(bool, String), Arc<jsonschema::Validator>>>,
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
        let doc: Value = serde_json::from_str(&text).unwrap();
        let mut lenient_doc = doc.clone();
        let snowflake = lenient_doc["components"]["schemas"]["SnowflakeType"].take();
        lenient_doc["components"]["schemas"]["SnowflakeType"] =
            json!({ "anyOf": [snowflake, { "type": "integer", "minimum": 0 }] });
        Spec { doc, lenient_doc, validators: Mutex::new(HashMap::new()) }
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

    /// Every violation of `schema` by `value`: `<JSON pointer> <keyword>: <message>`.
    pub fn validate(&self, schema: &Value, value: &Value) -> Vec<String> {
        self.violations(false, schema, value)
    }

    /// [`Spec::validate`] for what a client sends, where Discord also takes a snowflake written as
    /// a JSON integer (serenity numbers new attachments `{"id": 0}`; the description says string).
    /// Returns the violations and, apart, what only that leniency let through.
    pub fn validate_request(&self, schema: &Value, value: &Value) -> (Vec<String>, Vec<String>) {
        let errors = self.violations(true, schema, value);
        let lenient = if errors.is_empty() { self.violations(false, schema, value) } else { Vec::new() };
        (errors, lenient)
    }

    fn violations(&self, lenient: bool, schema: &Value, value: &Value) -> Vec<String> {
        // "<pointer> <keyword>: <message>", the message cut short: it quotes the whole value.
        self.validator(lenient, schema)
            .iter_errors(value)
            .map(|e| {
                let at = e.instance_path().as_str();
                let message: String = e.to_string().chars().take(160).collect();
                format!("{} {}: {message}", if at.is_empty() { "/" } else { at }, e.kind().keyword())
            })
            .collect()
    }

    fn validator(&self, lenient: bool, schema: &Value) -> Arc<jsonschema::Validator> {
        let key = (lenient, schema.to_string());
        let mut cache = self.validators.lock().unwrap();
        let compiled = cache.entry(key).or_insert_with(|| {
            // The schema becomes the root of a copy of the description, so `#/components/…`
            // resolves; the document's other keys are not keywords and are ignored.
            let mut root = if lenient { self.lenient_doc.clone() } else { self.doc.clone() };
            root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
            for (k, v) in schema.as_object().expect("a schema object") {
                root[k] = v.clone();
            }
            Arc::new(jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("{schema}: {e}")))
        });
        Arc::clone(compiled)
    }
}
