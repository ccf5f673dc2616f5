//! The syntax of a command or menu path, checked before anything is sent:
//! a path the router would misread (`interface/print`, `/ip address`) gets
//! the same error from every entry point, with the path it probably meant.
//! Only the syntax: whether the router has such a menu is the schema's business.

use crate::prelude::*;
/// Why `path` (a `kind`: "command path", "menu path") is not in the API's
/// form, with a hint; `None` when it is.
pub fn path_problem(kind: &str, path: &str) -> Option<String> {
    if in_api_form(path) {
        return None;
    }
    problem_one_by_one(kind, path)
}

/// Each rule of the API's form in turn, to name the one `path` breaks.
fn problem_one_by_one(kind: &str, path: &str) -> Option<String> {
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

/// Whether `path` is in the API's form, in one pass over its bytes: every
/// command is checked, so the common case must cost next to nothing; the
/// rules one by one (`problem_one_by_one`) only run to say what is wrong.
fn in_api_form(path: &str) -> bool {
    let bytes = path.as_bytes();
    if bytes.len() < 2 || bytes[0] != b'/' || bytes[bytes.len() - 1] == b'/' {
        return false;
    }
    let mut previous = 0;
    for &b in bytes {
        let empty_segment = b == b'/' && previous == b'/';
        if empty_segment
            || b == b'='
            || b == b'?'
            || b.is_ascii_whitespace()
            || b.is_ascii_control()
        {
            return false;
        }
        previous = b;
    }
    true
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
    use super::{in_api_form, path_problem, problem_one_by_one};
    use crate::prelude::*;
    use proptest::prelude::*;

    proptest! {
        /// The one-pass check passes exactly the paths the rules one by one
        /// pass. The alphabet has a byte for each of the rules' tests and one
        /// beside each: controls that are not whitespace (NUL, `\x01`, DEL),
        /// ASCII whitespace that is and is not a control (space, form feed,
        /// vertical tab), Unicode whitespace and controls beyond ASCII (NBSP,
        /// NEL, U+2028: no rule looks at them), and multi-byte characters.
        #[test]
        fn the_one_pass_check_agrees_with_the_rules(
            path in "[/a= ?\t\n\r\x0b\x0c\x00\x01\x7f\u{85}\u{a0}\u{2028}é-]{0,10}",
        ) {
            prop_assert_eq!(in_api_form(&path), problem_one_by_one("path", &path).is_none());
        }
    }

    /// Every rule of the one-pass check, each byte it looks at, one by one:
    /// no single clause can go missing without a path here changing verdict.
    #[test]
    fn the_one_pass_check_agrees_on_each_byte_in_each_place() {
        for byte in 0..=0x7fu8 {
            let c = char::from(byte);
            for path in [
                format!("{c}"),
                format!("/{c}"),
                format!("/a{c}"),
                format!("/{c}a"),
                format!("/a{c}b"),
                format!("{c}/a"),
            ] {
                assert_eq!(
                    in_api_form(&path),
                    problem_one_by_one("path", &path).is_none(),
                    "{path:?}"
                );
            }
        }
        for path in ["/ip\u{a0}address", "/é", "/ip/\u{2028}", "é/a", "/\u{85}"] {
            assert_eq!(
                in_api_form(path),
                problem_one_by_one("path", path).is_none(),
                "{path:?}"
            );
        }
    }

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
