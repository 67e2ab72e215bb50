//! A validator for the subset of OpenAPI 3.0 schema objects the Cal.com spec uses for
//! the operations we call: `$ref` to `#/components/schemas/…`, `type`, `required`,
//! `properties`, `additionalProperties`, `enum`, `items`, `oneOf`, `anyOf`, `allOf`,
//! `nullable`, `format: date-time`.
//!
//! Two knobs beyond the standard:
//! - `OneOf::AtLeastOne`: the spec's `oneOf` branches overlap (every booking location
//!   schema only requires `type`, with the allowed value in prose), so strict
//!   exactly-one semantics would reject every valid body; contract tests use
//!   at-least-one, and the unit tests below cover both.
//! - `deny_unknown`: the spec never sets `additionalProperties: false`, so a misspelt
//!   field would pass; for request bodies we also reject properties no schema declares.
#![allow(dead_code, unreachable_pub)]

use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OneOf {
    ExactlyOne,
    AtLeastOne,
}

#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub one_of: OneOf,
    pub deny_unknown: bool,
}

impl Options {
    pub fn request_body() -> Self {
        Self {
            one_of: OneOf::AtLeastOne,
            deny_unknown: true,
        }
    }

    pub fn response_body() -> Self {
        Self {
            one_of: OneOf::AtLeastOne,
            deny_unknown: false,
        }
    }
}

pub struct Validator<'a> {
    spec: &'a Value,
    options: Options,
}

impl<'a> Validator<'a> {
    pub fn new(spec: &'a Value, options: Options) -> Self {
        Self { spec, options }
    }

    /// The schema of a component (`#/components/schemas/{name}`).
    pub fn component(&self, name: &str) -> &'a Value {
        &self.spec["components"]["schemas"][name]
    }

    /// Validates `value`; returns every violation as `path: message`.
    pub fn validate(&self, schema: &Value, value: &Value) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        self.check(schema, value, "$", true, &mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn resolve<'s>(&'s self, schema: &'s Value) -> Result<&'s Value, String> {
        let mut current = schema;
        for _ in 0..32 {
            match current.get("$ref").and_then(Value::as_str) {
                Some(reference) => {
                    let pointer = reference
                        .strip_prefix('#')
                        .ok_or_else(|| format!("unsupported $ref {reference}"))?;
                    current = self
                        .spec
                        .pointer(pointer)
                        .ok_or_else(|| format!("dangling $ref {reference}"))?;
                }
                None => return Ok(current),
            }
        }
        Err("$ref cycle".to_owned())
    }

    /// Property names declared by a schema and its `allOf` members.
    fn declared(&self, schema: &Value, out: &mut Vec<String>) {
        let Ok(schema) = self.resolve(schema) else {
            return;
        };
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            out.extend(props.keys().cloned());
        }
        for member in schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.declared(member, out);
        }
    }

    fn check(
        &self,
        schema: &Value,
        value: &Value,
        at: &str,
        own_level: bool,
        errors: &mut Vec<String>,
    ) {
        let schema = match self.resolve(schema) {
            Ok(schema) => schema,
            Err(err) => {
                errors.push(format!("{at}: {err}"));
                return;
            }
        };
        let Some(obj) = schema.as_object() else {
            // `true`/`{}`-like: anything goes.
            return;
        };
        if value.is_null() && obj.get("nullable").and_then(Value::as_bool) == Some(true) {
            return;
        }
        if let Some(members) = obj.get("allOf").and_then(Value::as_array) {
            for member in members {
                // Unknown-property checks happen once, at this level, over all members.
                self.check(member, value, at, false, errors);
            }
        }
        if let Some(members) = obj.get("anyOf").and_then(Value::as_array) {
            if !members.iter().any(|m| self.validate_quiet(m, value, at)) {
                errors.push(format!("{at}: matches none of anyOf"));
            }
        }
        if let Some(members) = obj.get("oneOf").and_then(Value::as_array) {
            let matching = members
                .iter()
                .filter(|m| self.validate_quiet(m, value, at))
                .count();
            let ok = match self.options.one_of {
                OneOf::ExactlyOne => matching == 1,
                OneOf::AtLeastOne => matching >= 1,
            };
            if !ok {
                errors.push(format!("{at}: matches {matching} of oneOf"));
            }
        }
        if let Some(allowed) = obj.get("enum").and_then(Value::as_array) {
            if !allowed.contains(value) {
                errors.push(format!("{at}: {value} not in enum"));
            }
        }
        if let Some(ty) = obj.get("type").and_then(Value::as_str) {
            let ok = match ty {
                "string" => value.is_string(),
                "number" => value.is_number(),
                "integer" => value.is_i64() || value.is_u64(),
                "boolean" => value.is_boolean(),
                "object" => value.is_object(),
                "array" => value.is_array(),
                other => {
                    errors.push(format!("{at}: unsupported type {other}"));
                    return;
                }
            };
            if !ok {
                errors.push(format!("{at}: expected {ty}, got {value}"));
                return;
            }
        }
        if obj.get("format").and_then(Value::as_str) == Some("date-time") {
            if let Some(text) = value.as_str() {
                if chrono::DateTime::parse_from_rfc3339(text).is_err() {
                    errors.push(format!("{at}: {text:?} is not a date-time"));
                }
            }
        }
        if let Some(items) = obj.get("items") {
            if let Some(array) = value.as_array() {
                for (i, item) in array.iter().enumerate() {
                    self.check(items, item, &format!("{at}[{i}]"), true, errors);
                }
            }
        }
        if let Some(map) = value.as_object() {
            self.check_object(schema, obj, map, at, own_level, errors);
        }
    }

    fn check_object(
        &self,
        schema: &Value,
        obj: &Map<String, Value>,
        map: &Map<String, Value>,
        at: &str,
        own_level: bool,
        errors: &mut Vec<String>,
    ) {
        for name in obj
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = name.as_str() {
                if !map.contains_key(name) {
                    errors.push(format!("{at}: missing required {name}"));
                }
            }
        }
        let props = obj.get("properties").and_then(Value::as_object);
        if let Some(props) = props {
            for (name, sub) in props {
                if let Some(v) = map.get(name) {
                    self.check(sub, v, &format!("{at}.{name}"), true, errors);
                }
            }
        }
        let declared_here = |name: &str| props.is_some_and(|p| p.contains_key(name));
        match obj.get("additionalProperties") {
            Some(Value::Bool(false)) => {
                for name in map.keys().filter(|n| !declared_here(n)) {
                    errors.push(format!("{at}: additional property {name}"));
                }
            }
            Some(extra @ Value::Object(_)) => {
                for (name, v) in map.iter().filter(|(n, _)| !declared_here(n)) {
                    self.check(extra, v, &format!("{at}.{name}"), true, errors);
                }
            }
            _ => {
                let typed_object = obj.contains_key("properties") || obj.contains_key("allOf");
                if self.options.deny_unknown && own_level && typed_object {
                    let mut declared = Vec::new();
                    self.declared(schema, &mut declared);
                    for name in map.keys().filter(|n| !declared.contains(n)) {
                        errors.push(format!("{at}: property {name} is not in the schema"));
                    }
                }
            }
        }
    }

    fn validate_quiet(&self, schema: &Value, value: &Value, at: &str) -> bool {
        let mut errors = Vec::new();
        self.check(schema, value, at, true, &mut errors);
        errors.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Value {
        json!({"components": {"schemas": {
            "Pet": {
                "type": "object",
                "required": ["name", "kind"],
                "properties": {
                    "name": {"type": "string"},
                    "kind": {"type": "string", "enum": ["cat", "dog"]},
                    "age": {"type": "integer"},
                    "weight": {"type": "number"},
                    "born": {"type": "string", "format": "date-time"},
                    "owner": {"type": "string", "nullable": true},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "home": {"allOf": [{"$ref": "#/components/schemas/Home"}]}
                }
            },
            "Home": {"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}},
            "A": {"type": "object", "required": ["type"], "properties": {"type": {"type": "string"}}},
            "B": {"type": "object", "required": ["type", "b"], "properties": {"type": {"type": "string"}, "b": {"type": "boolean"}}},
            "Map": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            "Closed": {"type": "object", "properties": {"x": {"type": "number"}}, "additionalProperties": false}
        }}})
    }

    fn check(options: Options, name: &str, value: Value) -> Result<(), Vec<String>> {
        let spec = spec();
        let v = Validator::new(&spec, options);
        let schema = json!({"$ref": format!("#/components/schemas/{name}")});
        v.validate(&schema, &value)
    }

    fn lenient() -> Options {
        Options::response_body()
    }

    #[test]
    fn accepts_a_valid_object() {
        let pet = json!({"name": "Mia", "kind": "cat", "age": 3, "weight": 4.5, "born": "2020-01-01T00:00:00Z", "owner": null, "tags": ["a"], "home": {"city": "Berlin"}});
        assert_eq!(check(lenient(), "Pet", pet.clone()), Ok(()));
        assert_eq!(check(Options::request_body(), "Pet", pet), Ok(()));
    }

    #[test]
    fn reports_each_kind_of_violation() {
        let cases = [
            (json!({"kind": "cat"}), "missing required name"),
            (json!({"name": "M", "kind": "cow"}), "not in enum"),
            (json!({"name": 1, "kind": "cat"}), "expected string"),
            (
                json!({"name": "M", "kind": "cat", "age": 1.5}),
                "expected integer",
            ),
            (
                json!({"name": "M", "kind": "cat", "weight": "4"}),
                "expected number",
            ),
            (
                json!({"name": "M", "kind": "cat", "born": "yesterday"}),
                "not a date-time",
            ),
            (
                json!({"name": "M", "kind": "cat", "tags": ["a", 2]}),
                "$.tags[1]: expected string",
            ),
            (
                json!({"name": "M", "kind": "cat", "home": {}}),
                "$.home: missing required city",
            ),
            (
                json!({"name": "M", "kind": "cat", "age": null}),
                "expected integer",
            ),
            (json!([]), "expected object"),
        ];
        for (value, needle) in cases {
            let errors = check(lenient(), "Pet", value.clone()).unwrap_err();
            assert!(
                errors.iter().any(|e| e.contains(needle)),
                "{value}: {errors:?}"
            );
        }
    }

    #[test]
    fn unknown_properties_only_in_strict_mode() {
        let pet = json!({"name": "M", "kind": "cat", "colour": "black", "home": {"city": "B", "zip": "1"}});
        assert_eq!(check(lenient(), "Pet", pet.clone()), Ok(()));
        let errors = check(Options::request_body(), "Pet", pet).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("colour") || errors[1].contains("colour"));
        assert!(errors
            .iter()
            .any(|e| e.contains("$.home") && e.contains("zip")));
    }

    #[test]
    fn one_of_modes() {
        let spec = spec();
        let schema = json!({"oneOf": [{"$ref": "#/components/schemas/A"}, {"$ref": "#/components/schemas/B"}]});
        let both = json!({"type": "b", "b": true});
        let only_a = json!({"type": "a"});
        let neither = json!({"b": true});
        let exact = Validator::new(
            &spec,
            Options {
                one_of: OneOf::ExactlyOne,
                deny_unknown: false,
            },
        );
        let loose = Validator::new(
            &spec,
            Options {
                one_of: OneOf::AtLeastOne,
                deny_unknown: false,
            },
        );
        assert!(exact.validate(&schema, &both).is_err());
        assert!(exact.validate(&schema, &only_a).is_ok());
        assert!(loose.validate(&schema, &both).is_ok());
        assert!(loose.validate(&schema, &neither).is_err());
        let any = json!({"anyOf": [{"type": "string"}, {"type": "number"}]});
        assert!(loose.validate(&any, &json!(1)).is_ok());
        assert!(loose.validate(&any, &json!(true)).is_err());
    }

    #[test]
    fn additional_properties() {
        assert_eq!(
            check(lenient(), "Map", json!({"2026-01-01": ["x"]})),
            Ok(())
        );
        assert!(check(lenient(), "Map", json!({"2026-01-01": [1]})).is_err());
        assert!(check(lenient(), "Closed", json!({"x": 1})).is_ok());
        assert!(check(lenient(), "Closed", json!({"y": 1})).is_err());
    }

    #[test]
    fn dangling_refs_are_errors() {
        let spec = spec();
        let v = Validator::new(&spec, lenient());
        let schema = json!({"$ref": "#/components/schemas/Nope"});
        assert!(v.validate(&schema, &json!({})).is_err());
    }
}
