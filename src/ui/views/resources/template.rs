//! RFC 6570 URI templates, as far as resource templates use them: the variables a template
//! names (the form's fields) and its expansion with the values filled in (level 3: the
//! operators `+ # . / ; ? &`, lists of variables; the `*` and `:N` modifiers are read and
//! ignored). Pure; no drawing.

/// The variables of `template` in order, each once.
pub fn variables(template: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (_, list) in expressions(template) {
        for name in list {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// `template` with each expression replaced by its values; a variable without a value (or
/// with an empty one) is left out, as RFC 6570 says of undefined ones.
pub fn expand(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        out.push_str(&rest[..open]);
        let (operator, names) = parse(&rest[open + 1..open + close]);
        let values: Vec<(String, String)> = names
            .into_iter()
            .filter_map(|name| value(&name).filter(|v| !v.is_empty()).map(|v| (name, v)))
            .collect();
        out.push_str(&render(operator, &values));
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

fn expressions(template: &str) -> Vec<(Option<char>, Vec<String>)> {
    let mut found = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        found.push(parse(&rest[open + 1..open + close]));
        rest = &rest[open + close + 1..];
    }
    found
}

fn parse(expression: &str) -> (Option<char>, Vec<String>) {
    let operator = expression.chars().next().filter(|c| "+#./;?&".contains(*c));
    let list = &expression[operator.map_or(0, char::len_utf8)..];
    let names = list
        .split(',')
        .map(|spec| spec.trim_end_matches('*'))
        .map(|spec| spec.split(':').next().unwrap_or(spec).to_string())
        .filter(|name| !name.is_empty())
        .collect();
    (operator, names)
}

fn render(operator: Option<char>, values: &[(String, String)]) -> String {
    if values.is_empty() {
        return String::new();
    }
    let reserved = matches!(operator, Some('+' | '#'));
    let (first, separator, named) = match operator {
        None | Some('+') => ("", ",", false),
        Some('#') => ("#", ",", false),
        Some('.') => (".", ".", false),
        Some('/') => ("/", "/", false),
        Some(';') => (";", ";", true),
        Some('?') => ("?", "&", true),
        Some('&') => ("&", "&", true),
        Some(_) => ("", ",", false),
    };
    let parts: Vec<String> = values
        .iter()
        .map(|(name, value)| {
            let value = encode(value, reserved);
            if named {
                format!("{name}={value}")
            } else {
                value
            }
        })
        .collect();
    format!("{first}{}", parts.join(separator))
}

/// Percent-encodes all but the unreserved characters (and the reserved ones for `+` / `#`).
fn encode(value: &str, reserved: bool) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || b"-._~".contains(&byte)
            || (reserved && b":/?#[]@!$&'()*+,;=".contains(&byte));
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_found_once_in_order() {
        assert_eq!(variables("test://template/{id}/data"), ["id"]);
        assert_eq!(
            variables("db://{schema}/{table}{?limit,offset*}{&schema}"),
            ["schema", "table", "limit", "offset"]
        );
        assert!(variables("file:///etc/hosts").is_empty());
    }

    #[test]
    fn expansion_encodes_by_operator_and_leaves_out_empty_values() {
        let values = |name: &str| match name {
            "id" => Some("4 2".to_string()),
            "path" => Some("a/b".to_string()),
            "limit" => Some("10".to_string()),
            _ => None,
        };
        assert_eq!(
            expand("test://template/{id}/data", values),
            "test://template/4%202/data"
        );
        assert_eq!(expand("f://{+path}", values), "f://a/b");
        assert_eq!(expand("f://x{/path}", values), "f://x/a%2Fb");
        assert_eq!(expand("f://x{?limit,offset}", values), "f://x?limit=10");
        assert_eq!(expand("f://x{?offset}", values), "f://x");
    }
}
