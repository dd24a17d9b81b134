//! The small part of IoT Hub's query language the emulator answers (`POST /devices/query`):
//! `SELECT * FROM devices` or `FROM devices.modules`, optionally `WHERE a = x AND b != y …`,
//! where each side is a dotted path into the twin document (`deviceId`, `tags.site`,
//! `properties.reported.fw`) and a literal (`'text'`, a number, `true`, `false`, `null`).
//! Anything else is refused with a 400 that says so, rather than answered wrongly.

use super::registry::ServiceError;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub modules: bool,
    conditions: Vec<(Vec<String>, bool, Value)>,
}

fn unsupported(q: &str) -> ServiceError {
    ServiceError::invalid(format!(
        "the emulator answers only SELECT * FROM devices[.modules] [WHERE path = literal [AND …]], not '{}'",
        q.chars().take(200).collect::<String>()
    ))
}

fn literal(s: &str) -> Option<Value> {
    let s = s.trim();
    if let Some(t) = s.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
        return Some(Value::String(t.to_string()));
    }
    if let Some(t) = s.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
        return Some(Value::String(t.to_string()));
    }
    serde_json::from_str::<Value>(&s.to_ascii_lowercase()).ok().filter(|v| !v.is_object() && !v.is_array() && !v.is_string())
}

pub fn parse(q: &str) -> Result<Query, ServiceError> {
    let words: Vec<&str> = q.split_whitespace().collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
    if lower.len() < 4 || lower[0] != "select" || lower[1] != "*" || lower[2] != "from" {
        return Err(unsupported(q));
    }
    let modules = match lower[3].as_str() {
        "devices" => false,
        "devices.modules" => true,
        _ => return Err(unsupported(q)),
    };
    let mut conditions = Vec::new();
    if lower.len() > 4 {
        if lower[4] != "where" {
            return Err(unsupported(q));
        }
        // Literals may hold spaces, so conditions are split on the original text (ASCII
        // lower-casing keeps byte offsets).
        let at = q.to_ascii_lowercase().find(" where ").ok_or_else(|| unsupported(q))?;
        for cond in split_and(&q[at + 7..]) {
            let (path, negated, value) = match (cond.find("!="), cond.find("<>"), cond.find('=')) {
                (Some(i), _, _) | (_, Some(i), _) => (&cond[..i], true, &cond[i + 2..]),
                (None, None, Some(i)) => (&cond[..i], false, &cond[i + 1..]),
                _ => return Err(unsupported(q)),
            };
            let path: Vec<String> = path.trim().split('.').map(str::to_string).collect();
            if path.iter().any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_alphanumeric() || "_$-".contains(c))) {
                return Err(unsupported(q));
            }
            conditions.push((path, negated, literal(value).ok_or_else(|| unsupported(q))?));
        }
    }
    Ok(Query { modules, conditions })
}

/// Splits on ` AND ` (any case) outside quotes.
fn split_and(s: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quote: Option<char> = None;
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
        } else if c == '\'' || c == '"' {
            quote = Some(c);
        } else if c.is_whitespace() && chars.get(i + 1..i + 5).is_some_and(|w| w.iter().collect::<String>().eq_ignore_ascii_case("and ")) {
            out.push(String::new());
            i += 5;
            continue;
        }
        if let Some(last) = out.last_mut() {
            last.push(c);
        }
        i += 1;
    }
    out.into_iter().map(|s| s.trim().to_string()).collect()
}

impl Query {
    pub fn matches(&self, twin: &Value) -> bool {
        self.conditions.iter().all(|(path, negated, want)| {
            let got = path.iter().try_fold(twin, |v, k| v.get(k)).unwrap_or(&Value::Null);
            (got == want) != *negated
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn where_clauses_compare_dotted_paths_with_literals() {
        let twin = json!({"deviceId": "d 1", "tags": {"site": "north"}, "properties": {"reported": {"fw": 2}}});
        assert!(parse("SELECT * FROM devices").unwrap().matches(&twin));
        assert!(parse("select * from devices where deviceId = 'd 1' and tags.site = 'north'").unwrap().matches(&twin));
        assert!(parse("SELECT * FROM devices WHERE properties.reported.fw = 2").unwrap().matches(&twin));
        assert!(!parse("SELECT * FROM devices WHERE tags.site != 'north'").unwrap().matches(&twin));
        assert!(parse("SELECT * FROM devices.modules").unwrap().modules);
    }

    #[test]
    fn what_the_emulator_cannot_answer_is_refused() {
        for q in ["SELECT deviceId FROM devices", "SELECT * FROM devices WHERE tags.x > 1", "SELECT * FROM devices.jobs", "DELETE FROM devices", ""] {
            assert_eq!(parse(q).unwrap_err().0, 400, "{q}");
        }
    }
}
