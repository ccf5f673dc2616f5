//! The syntax of a command or menu path, checked before anything is sent:
//! a path the router would misread (`interface/print`, `/ip address`) gets
//! the same error from every entry point, with the path it probably meant.
//! Only the syntax: whether the router has such a menu is the schema's business.

use crate::prelude::*;
/// Why `path` (a `kind`: "command path", "menu path") is not in the API's
/// form, with a hint; `None` when it is.
pub fn path_problem(kind: &str, path: &str) -> Option<String> {
    if path == "/" {
        return Some(format!(
            "{kind} \"/\" must name a menu (e.g. \"/ip/address\")"
        ));
    }
    let problem = if !path.starts_with('/') {
        "must start with `/`"
    } else if path.ends_with('/') {
        "must not end with `/`"
    } else if path.contains("//") {
        "has an empty segment"
    } else if path.bytes().any(|b| b == b'=' || b == b'?') {
        return Some(format!(
            "{kind} {path:?} has `=` or `?`: attributes and queries are words of \
             their own (`attribute`, `query_*`), not part of the path"
        ));
    } else if path
        .bytes()
        .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        "separates segments with `/` and has no spaces"
    } else {
        return None;
    };
    Some(format!(
        "{kind} {path:?} {problem} (the API's form: {:?})",
        suggestion(path)
    ))
}

/// `path` in the API's form, as far as it can be guessed: segments split on
/// `/` and spaces, joined by `/`, with a leading `/`.
fn suggestion(path: &str) -> String {
    let segments: Vec<&str> = path
        .split(|c: char| c == '/' || c.is_whitespace() || c.is_control())
        .filter(|s| !s.is_empty())
        .collect();
    format!("/{}", segments.join("/"))
}

#[cfg(test)]
mod tests {
    use super::path_problem;

    #[test]
    fn api_paths_pass_and_others_say_what_was_meant() {
        for good in ["/interface/print", "/login", "/ip/address/add"] {
            assert_eq!(path_problem("command path", good), None, "{good}");
        }
        for (bad, expected) in [
            (
                "interface/print",
                "command path \"interface/print\" must start with `/` (the API's form: \"/interface/print\")",
            ),
            (
                "/ip address print",
                "command path \"/ip address print\" separates segments with `/` and has no spaces (the API's form: \"/ip/address/print\")",
            ),
            (
                "/ip//address/",
                "command path \"/ip//address/\" must not end with `/` (the API's form: \"/ip/address\")",
            ),
            (
                "/ip//address",
                "command path \"/ip//address\" has an empty segment (the API's form: \"/ip/address\")",
            ),
        ] {
            assert_eq!(path_problem("command path", bad).as_deref(), Some(expected));
        }
        assert!(
            path_problem("menu path", "/")
                .unwrap()
                .contains("must name a menu")
        );
        assert!(
            path_problem("menu path", "/ip/address=x")
                .unwrap()
                .contains("words of their own")
        );
    }
}
