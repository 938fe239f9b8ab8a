//! Workflow templates: ComfyUI graphs in its API format (`{"<node id>": {"class_type": …,
//! "inputs": {…}}, …}`) with placeholders the generator fills per job.
//!
//! A placeholder is `{{name}}` inside a string value. A string that is exactly one placeholder
//! (`"seed": "{{seed}}"`) becomes the value itself — a number for `seed`, `width`, `height` and
//! `steps`, a string for `prompt` and `negative_prompt`; a placeholder inside a longer string
//! (`"text": "masterpiece, {{prompt}}"`) is replaced by the value's text. Unknown names are
//! refused when the templates are loaded.

use std::collections::BTreeMap;
use std::path::Path;

use genonaut_domain::model::JsonObject;
use genonaut_domain::ports::{GenerationRequest, Refusal};
use serde_json::{Value, json};

use crate::offline::param;

/// The placeholder names a template may use.
pub const PLACEHOLDERS: [&str; 6] = ["prompt", "negative_prompt", "seed", "width", "height", "steps"];

/// The stem of the template used when a job names none (or the only template).
pub const DEFAULT: &str = "default";

/// Loaded workflow templates, by file stem.
#[derive(Debug, Clone, Default)]
pub struct Workflows(BTreeMap<String, Value>);

/// `{{name}}` occurrences of `text`: (byte range, name).
fn placeholders(text: &str) -> Vec<(std::ops::Range<usize>, &str)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("{{").map(|i| from + i) {
        let Some(close) = text[open + 2..].find("}}").map(|i| open + 2 + i) else {
            break;
        };
        found.push((open..close + 2, text[open + 2..close].trim()));
        from = close + 2;
    }
    found
}

fn check(value: &Value, at: &str) -> Result<(), String> {
    match value {
        Value::String(text) => {
            for (_, name) in placeholders(text) {
                if !PLACEHOLDERS.contains(&name) {
                    return Err(format!(
                        "unknown placeholder {{{{{name}}}}} at {at} (known: {})",
                        PLACEHOLDERS.join(", ")
                    ));
                }
            }
            Ok(())
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check(v, &format!("{at}[{i}]"))),
        Value::Object(fields) => fields
            .iter()
            .try_for_each(|(k, v)| check(v, &format!("{at}.{k}"))),
        _ => Ok(()),
    }
}

impl Workflows {
    /// Templates from `(name, graph)` pairs; every graph must be a JSON object of nodes and
    /// use known placeholders only.
    pub fn new(templates: impl IntoIterator<Item = (String, Value)>) -> Result<Self, String> {
        let mut out = BTreeMap::new();
        for (name, graph) in templates {
            let Some(nodes) = graph.as_object() else {
                return Err(format!(
                    "workflow {name}: not a JSON object of nodes (ComfyUI's API format)"
                ));
            };
            if nodes.values().any(|n| n.get("class_type").is_none()) {
                return Err(format!(
                    "workflow {name}: every node needs a class_type (export it with \"Save (API Format)\")"
                ));
            }
            check(&graph, &name).map_err(|e| format!("workflow {e}"))?;
            out.insert(name, graph);
        }
        if out.is_empty() {
            return Err("no workflow templates (*.json)".into());
        }
        Ok(Workflows(out))
    }

    /// Every `*.json` file of `dir`, named by its stem.
    pub fn load(dir: &Path) -> Result<Self, String> {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
        let mut templates = Vec::new();
        for entry in entries {
            let path = entry
                .map_err(|e| format!("reading {}: {e}", dir.display()))?
                .path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
            let graph = serde_json::from_str(&text)
                .map_err(|e| format!("{} is not valid JSON: {e}", path.display()))?;
            templates.push((stem.to_owned(), graph));
        }
        Workflows::new(templates).map_err(|e| format!("{}: {e}", dir.display()))
    }

    /// The names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }

    /// The template `parameters.workflow` names (default: `default`, or the only one).
    pub fn pick(&self, parameters: &JsonObject) -> Result<(&str, &Value), Refusal> {
        let refuse = |message: String| Refusal {
            parameter: "workflow".into(),
            message,
        };
        let available = || self.names().join(", ");
        let wanted = match parameters.get("workflow") {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) => Some(name.as_str()),
            Some(_) => {
                return Err(refuse(
                    "workflow must be the name of a workflow template (a string)".into(),
                ));
            }
        };
        let name = match wanted {
            Some(name) => name,
            None if self.0.contains_key(DEFAULT) => DEFAULT,
            None if self.0.len() == 1 => self.0.keys().next().map_or(DEFAULT, String::as_str),
            None => {
                return Err(refuse(format!(
                    "Choose a workflow with parameters.workflow (available: {})",
                    available()
                )));
            }
        };
        self.0
            .get_key_value(name)
            .map(|(k, v)| (k.as_str(), v))
            .ok_or_else(|| refuse(format!("Unknown workflow '{name}' (available: {})", available())))
    }
}

/// The values of the placeholders for `request`.
pub fn values(request: &GenerationRequest) -> BTreeMap<&'static str, Value> {
    let p = &request.parameters;
    let multiple_of_8 = |v: u32| v / 8 * 8;
    BTreeMap::from([
        ("prompt", json!(request.prompt)),
        (
            "negative_prompt",
            json!(
                p.get("negative_prompt")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            ),
        ),
        ("seed", json!(request.seed())),
        ("width", json!(multiple_of_8(param(p, "width", 512, 64, 4096)))),
        ("height", json!(multiple_of_8(param(p, "height", 512, 64, 4096)))),
        ("steps", json!(param(p, "steps", 20, 1, 200))),
    ])
}

/// `template` with its placeholders filled from `values`.
pub fn fill(template: &Value, values: &BTreeMap<&'static str, Value>) -> Value {
    match template {
        Value::String(text) => {
            let found = placeholders(text);
            if let [(range, name)] = found.as_slice()
                && range.start == 0
                && range.end == text.len()
                && let Some(v) = values.get(*name)
            {
                return v.clone();
            }
            let mut out = String::with_capacity(text.len());
            let mut last = 0;
            for (range, name) in found {
                out.push_str(&text[last..range.start]);
                match values.get(name) {
                    Some(Value::String(s)) => out.push_str(s),
                    Some(v) => out.push_str(&v.to_string()),
                    None => out.push_str(&text[range.clone()]),
                }
                last = range.end;
            }
            out.push_str(&text[last..]);
            Value::String(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| fill(v, values)).collect()),
        Value::Object(fields) => {
            Value::Object(fields.iter().map(|(k, v)| (k.clone(), fill(v, values))).collect())
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use genonaut_domain::model::JobType;

    fn request(parameters: Value) -> GenerationRequest {
        GenerationRequest {
            job_id: 1,
            job_type: JobType::Image,
            prompt: "a red fox".into(),
            parameters: parameters.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn whole_placeholders_take_the_value_and_embedded_ones_its_text() {
        let template = json!({
            "3": {"class_type": "KSampler", "inputs": {"seed": "{{seed}}", "steps": "{{ steps }}", "cfg": 7}},
            "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "masterpiece, {{prompt}}, {{width}}px"}},
            "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "{{negative_prompt}}"}}
        });
        let r = request(json!({"seed": 42, "steps": 7, "width": 300, "negative_prompt": "blurry"}));
        let graph = fill(&template, &values(&r));
        assert_eq!(graph["3"]["inputs"]["seed"], json!(42));
        assert_eq!(graph["3"]["inputs"]["steps"], json!(7));
        assert_eq!(graph["3"]["inputs"]["cfg"], json!(7));
        assert_eq!(
            graph["6"]["inputs"]["text"],
            json!("masterpiece, a red fox, 296px")
        );
        assert_eq!(graph["7"]["inputs"]["text"], json!("blurry"));
    }

    #[test]
    fn templates_are_checked_and_picked_by_name() {
        let node = |text: &str| json!({"1": {"class_type": "CLIPTextEncode", "inputs": {"text": text}}});
        let err = Workflows::new([("x".to_owned(), node("{{promt}}"))]).unwrap_err();
        assert!(err.contains("unknown placeholder {{promt}}"), "{err}");
        assert!(Workflows::new([("x".to_owned(), json!([1]))]).is_err());
        assert!(Workflows::new([("x".to_owned(), json!({"1": {"inputs": {}}}))]).is_err());
        assert!(Workflows::new(Vec::new()).is_err());

        let one = Workflows::new([("portrait".to_owned(), node("{{prompt}}"))]).unwrap();
        assert_eq!(one.pick(&JsonObject::new()).unwrap().0, "portrait");
        let two = Workflows::new([
            ("default".to_owned(), node("{{prompt}}")),
            ("portrait".to_owned(), node("{{prompt}}")),
        ])
        .unwrap();
        assert_eq!(two.pick(&JsonObject::new()).unwrap().0, "default");
        let named = json!({"workflow": "portrait"});
        assert_eq!(two.pick(named.as_object().unwrap()).unwrap().0, "portrait");
        let unknown = json!({"workflow": "landscape"});
        let refusal = two.pick(unknown.as_object().unwrap()).unwrap_err();
        assert_eq!(refusal.parameter, "workflow");
        assert_eq!(
            refusal.message,
            "Unknown workflow 'landscape' (available: default, portrait)"
        );
        let wrong = json!({"workflow": 3});
        assert!(two.pick(wrong.as_object().unwrap()).is_err());
        let two = Workflows::new([
            ("a".to_owned(), node("{{prompt}}")),
            ("b".to_owned(), node("{{prompt}}")),
        ])
        .unwrap();
        assert!(
            two.pick(&JsonObject::new())
                .unwrap_err()
                .message
                .contains("available: a, b")
        );
    }
}
