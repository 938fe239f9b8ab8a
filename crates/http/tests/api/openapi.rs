use actix_web::http::Method;
use serde_json::Value;

use crate::call;

#[actix_web::test]
async fn every_component_reference_resolves() {
    let app = crate::app!();
    let (_, doc) = call(&app, Method::GET, "/openapi.json", None).await;
    let components = doc["components"].as_object().unwrap();
    let mut refs = Vec::new();
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|v| walk(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    walk(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let target = r
            .strip_prefix("#/components/")
            .and_then(|rest| rest.split_once('/'))
            .and_then(|(kind, name)| components.get(kind)?.get(name));
        assert!(target.is_some(), "dangling reference {r}");
    }
}
