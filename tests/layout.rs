//! The layout keeps the rules ARCHITECTURE.md states, read from the code's own `use` lines and
//! paths: no import circles between the files of `src/` or of `server/src/`, and each layer
//! imports only what it may. Run it alone with `cargo test --test layout`.
//!
//! A file's edges are the modules its `use` declarations and `crate::`/`super::`/`self::`
//! paths name (test-only modules and `#[cfg(test)]` blocks left out). A module naming one of its
//! own submodules is the module tree, not an import, so it is no edge.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use regex::Regex;

/// A module of a crate: its path (`crate::mcp::pool`) and the file it lives in.
#[derive(Debug)]
struct Module {
    path: Vec<String>,
    file: PathBuf,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every non-test module reachable from `lib.rs` through `mod` declarations.
fn modules(lib: &Path) -> Vec<Module> {
    let declaration =
        Regex::new(r"^\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+([a-z_][a-z0-9_]*)\s*;").unwrap();
    let path_attribute = Regex::new(r#"#\[path\s*=\s*"([^"]+)"\]"#).unwrap();
    let mut found = Vec::new();
    let mut pending = vec![Module {
        path: vec!["crate".to_string()],
        file: lib.to_path_buf(),
    }];
    while let Some(module) = pending.pop() {
        let text = std::fs::read_to_string(&module.file)
            .unwrap_or_else(|e| panic!("{}: {e}", module.file.display()));
        let lines: Vec<&str> = text.lines().collect();
        let dir = module.file.parent().unwrap();
        let is_dir_owner = matches!(
            module.file.file_name().and_then(|n| n.to_str()),
            Some("mod.rs" | "lib.rs")
        );
        for (i, line) in lines.iter().enumerate() {
            let Some(captures) = declaration.captures(line) else {
                continue;
            };
            let name = captures[1].to_string();
            let attributes = &lines[i.saturating_sub(3)..i];
            if attributes.iter().any(|a| a.contains("#[cfg(test)]")) {
                continue;
            }
            let explicit = attributes
                .iter()
                .find_map(|a| path_attribute.captures(a).map(|c| c[1].to_string()));
            let base = if is_dir_owner {
                dir.to_path_buf()
            } else {
                dir.join(module.file.file_stem().unwrap())
            };
            let file = match explicit {
                Some(relative) => dir.join(relative),
                None if base.join(format!("{name}.rs")).exists() => base.join(format!("{name}.rs")),
                None => base.join(&name).join("mod.rs"),
            };
            let mut path = module.path.clone();
            path.push(name);
            pending.push(Module { path, file });
        }
        found.push(module);
    }
    found
}

/// The text of a file without comments, string contents and `#[cfg(test)]` items.
fn code_of(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let strings = Regex::new(r#""(?:[^"\\]|\\.)*""#).unwrap();
    let mut code = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]" {
            // Skip the item that follows: up to its `;`, or its block's closing brace.
            let mut depth = 0i32;
            for next in lines.by_ref() {
                depth += next.matches('{').count() as i32 - next.matches('}').count() as i32;
                if depth <= 0 && (next.trim_end().ends_with(';') || next.trim_end().ends_with('}'))
                {
                    break;
                }
            }
            continue;
        }
        let line = line.split("//").next().unwrap_or("");
        code.push_str(&strings.replace_all(line, "\"\""));
        code.push('\n');
    }
    code
}

/// Every path the code names from `crate`, `super` or `self`, in full (use trees expanded).
fn named_paths(code: &str) -> Vec<Vec<String>> {
    let uses = Regex::new(r"(?s)\buse\s+((?:crate|super|self)\b[^;]*);").unwrap();
    let inline = Regex::new(r"\b(?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)+").unwrap();
    let mut paths = Vec::new();
    for captures in uses.captures_iter(code) {
        paths.extend(use_tree(&captures[1]));
    }
    for found in inline.find_iter(code) {
        paths.push(found.as_str().split("::").map(str::to_string).collect());
    }
    paths
}

/// The paths of a `use` declaration's tree (renames dropped).
fn use_tree(text: &str) -> Vec<Vec<String>> {
    let renamed = Regex::new(r"\s+as\s+[A-Za-z_][A-Za-z0-9_]*").unwrap();
    let tree: String = renamed.replace_all(text, "").split_whitespace().collect();
    let mut paths = Vec::new();
    expand(&tree, &mut Vec::new(), &mut paths);
    paths
}

/// `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let Some(open) = tree.find('{') else {
        let mut path = prefix.clone();
        path.extend(
            tree.split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
        out.push(path);
        return;
    };
    let head: Vec<String> = tree[..open]
        .split("::")
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut depth = 0;
    let mut start = 0;
    let mut parts = Vec::new();
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    let depth_before = prefix.len();
    prefix.extend(head);
    for part in parts.into_iter().filter(|p| !p.is_empty()) {
        if part == "self" {
            out.push(prefix.clone());
        } else {
            expand(part, prefix, out);
        }
    }
    prefix.truncate(depth_before);
}

/// `path` as seen from module `from`, made absolute (`crate::…`).
fn absolute(from: &[String], path: &[String]) -> Vec<String> {
    let mut at: Vec<String> = match path[0].as_str() {
        "crate" => vec!["crate".to_string()],
        _ => from.to_vec(),
    };
    let mut rest = &path[1..];
    if path[0] == "super" {
        at.pop();
    }
    while rest.first().is_some_and(|s| s == "super") {
        at.pop();
        rest = &rest[1..];
    }
    at.extend(rest.iter().cloned());
    at
}

/// File → the files it imports from, within one crate.
fn edges(modules: &[Module]) -> BTreeMap<String, BTreeSet<String>> {
    let by_path: BTreeMap<&[String], &Module> =
        modules.iter().map(|m| (m.path.as_slice(), m)).collect();
    let name = |m: &Module| m.path.join("::");
    let mut graph = BTreeMap::new();
    for module in modules {
        let mut targets = BTreeSet::new();
        for path in named_paths(&code_of(&module.file)) {
            let full = absolute(&module.path, &path);
            let target = (1..=full.len())
                .rev()
                .find_map(|n| by_path.get(&full[..n]).copied());
            let Some(target) = target else { continue };
            let own_descendant = target.path.starts_with(&module.path);
            if !own_descendant {
                targets.insert(name(target));
            }
        }
        graph.insert(name(module), targets);
    }
    graph
}

/// The strongly connected groups of more than one file (Tarjan's algorithm).
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(state: &mut State<'a>, node: &'a str) {
        let next = state.index.len();
        state.index.insert(node, next);
        state.low.insert(node, next);
        state.stack.push(node);
        state.on_stack.insert(node);
        for target in state.graph.get(node).into_iter().flatten() {
            let target = target.as_str();
            if !state.index.contains_key(target) {
                visit(state, target);
                let low = state.low[node].min(state.low[target]);
                state.low.insert(node, low);
            } else if state.on_stack.contains(target) {
                let low = state.low[node].min(state.index[target]);
                state.low.insert(node, low);
            }
        }
        if state.low[node] == state.index[node] {
            let mut group = Vec::new();
            while let Some(member) = state.stack.pop() {
                state.on_stack.remove(member);
                group.push(member.to_string());
                if member == node {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                state.found.push(group);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !state.index.contains_key(node.as_str()) {
            visit(&mut state, node);
        }
    }
    state.found
}

fn describe(graph: &BTreeMap<String, BTreeSet<String>>, circle: &[String]) -> String {
    let members: BTreeSet<&String> = circle.iter().collect();
    let arrows: Vec<String> = circle
        .iter()
        .flat_map(|from| {
            graph[from]
                .iter()
                .filter(|to| members.contains(to))
                .map(move |to| format!("{from} -> {to}"))
        })
        .collect();
    arrows.join("; ")
}

#[test]
fn no_import_circles_between_files() {
    for lib in ["src/lib.rs", "server/src/lib.rs"] {
        let modules = modules(&root().join(lib));
        assert!(
            modules.len() > 10,
            "{lib}: only {} modules found",
            modules.len()
        );
        let graph = edges(&modules);
        let found = circles(&graph);
        let described: Vec<String> = found.iter().map(|c| describe(&graph, c)).collect();
        assert!(
            described.is_empty(),
            "{lib}: import circles:\n{}",
            described.join("\n")
        );
    }
}

#[test]
fn each_layer_imports_only_what_it_may() {
    let modules = modules(&root().join("src/lib.rs"));
    let graph = edges(&modules);
    // (layer, layers it must not import)
    let rules: &[(&str, &[&str])] = &[
        (
            "crate::fleet",
            &[
                "crate::sources",
                "crate::mcp",
                "crate::ui",
                "crate::cli",
                "crate::config",
            ],
        ),
        ("crate::sources", &["crate::mcp", "crate::ui", "crate::cli"]),
        (
            "crate::oauth",
            &[
                "crate::sources",
                "crate::mcp",
                "crate::ui",
                "crate::cli",
                "crate::config",
                "crate::fleet",
            ],
        ),
        (
            "crate::mcp",
            &["crate::sources", "crate::ui", "crate::cli", "crate::config"],
        ),
        (
            "crate::reach",
            &[
                "crate::sources",
                "crate::mcp",
                "crate::ui",
                "crate::cli",
                "crate::config",
            ],
        ),
        ("crate::ui", &["crate::cli"]),
    ];
    let mut broken = Vec::new();
    for (from, targets) in &graph {
        for (layer, forbidden) in rules {
            if !(from == layer || from.starts_with(&format!("{layer}::"))) {
                continue;
            }
            for target in targets {
                if forbidden
                    .iter()
                    .any(|f| target == f || target.starts_with(&format!("{f}::")))
                {
                    broken.push(format!("{from} imports {target}"));
                }
            }
        }
    }
    // No terminal code below the UI.
    for module in &modules {
        let name = module.path.join("::");
        let below_ui = [
            "crate::fleet",
            "crate::sources",
            "crate::mcp",
            "crate::oauth",
            "crate::reach",
        ]
        .iter()
        .any(|layer| name.starts_with(layer));
        let code = code_of(&module.file);
        if below_ui && (code.contains("ratatui") || code.contains("crossterm")) {
            broken.push(format!("{name} uses terminal code"));
        }
    }
    assert!(
        broken.is_empty(),
        "layer rules broken:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_checker_sees_a_circle_and_expands_use_trees() {
    let paths = use_tree("super::{a, b::{c, self}, d as e}");
    let joined: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(joined, ["super::a", "super::b::c", "super::b", "super::d"]);
    let from = vec!["crate".to_string(), "mcp".to_string(), "pool".to_string()];
    let path: Vec<String> = ["super", "connection", "Connection"]
        .map(String::from)
        .to_vec();
    assert_eq!(
        absolute(&from, &path).join("::"),
        "crate::mcp::connection::Connection"
    );
    let graph = BTreeMap::from([
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["a".to_string()])),
        ("c".to_string(), BTreeSet::from(["a".to_string()])),
    ]);
    assert_eq!(
        circles(&graph),
        vec![vec!["a".to_string(), "b".to_string()]]
    );
}
