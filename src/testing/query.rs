//! Query words of `print`/`getall`, evaluated with RouterOS's stack semantics.

use std::cmp::Ordering;

/// One parsed query word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum QueryWord {
    /// `?name`: the property is present.
    Present(Vec<u8>),
    /// `?-name`: the property is absent.
    Absent(Vec<u8>),
    /// `?name=x` or `?=name=x`.
    Equal(Vec<u8>, Vec<u8>),
    /// `?<name=x`.
    Less(Vec<u8>, Vec<u8>),
    /// `?>name=x`.
    Greater(Vec<u8>, Vec<u8>),
    /// `?#…`: stack operations.
    Ops(Vec<Op>),
}

/// One `?#` stack operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Not,
    And,
    Or,
    Dot,
    /// Push a copy of the value at this depth (top = 0).
    Index(usize),
    /// Digits at the end of the word: the stack becomes that one value.
    Replace(usize),
}

/// Splits `key=value` at the first `=`.
fn key_value(body: &[u8]) -> (Vec<u8>, Option<Vec<u8>>) {
    match body.iter().position(|&b| b == b'=') {
        Some(eq) => (body[..eq].to_vec(), Some(body[eq + 1..].to_vec())),
        None => (body.to_vec(), None),
    }
}

/// Parses a query word (with its leading `?`). `None` when it is malformed.
pub(crate) fn parse(word: &[u8]) -> Option<QueryWord> {
    let body = word.strip_prefix(b"?")?;
    match body.first() {
        Some(b'#') => parse_ops(&body[1..]).map(QueryWord::Ops),
        Some(b'-') => Some(QueryWord::Absent(body[1..].to_vec())),
        Some(b'<') | Some(b'>') | Some(b'=') => {
            let (key, value) = key_value(&body[1..]);
            let value = value?;
            if key.is_empty() {
                return None;
            }
            Some(match body[0] {
                b'<' => QueryWord::Less(key, value),
                b'>' => QueryWord::Greater(key, value),
                _ => QueryWord::Equal(key, value),
            })
        }
        Some(_) => match key_value(body) {
            (key, Some(value)) => Some(QueryWord::Equal(key, value)),
            (key, None) => Some(QueryWord::Present(key)),
        },
        None => None,
    }
}

fn parse_ops(text: &[u8]) -> Option<Vec<Op>> {
    let mut ops = Vec::new();
    let mut digits: Option<usize> = None;
    for &c in text {
        if c.is_ascii_digit() {
            let d = usize::from(c - b'0');
            // Absurd indexes saturate; they read as `true` (below the stack).
            digits = Some(digits.unwrap_or(0).saturating_mul(10).saturating_add(d));
            continue;
        }
        let after_index = digits.is_some();
        if let Some(index) = digits.take() {
            ops.push(Op::Index(index));
        }
        ops.push(match c {
            b'!' => Op::Not,
            b'&' => Op::And,
            b'|' => Op::Or,
            // After an index, `.` only separates.
            b'.' if after_index => continue,
            b'.' => Op::Dot,
            _ => return None,
        });
    }
    if let Some(index) = digits {
        ops.push(Op::Replace(index));
    }
    Some(ops)
}

/// Compares numerically when both sides are integers, else as bytes.
fn compare(a: &[u8], b: &[u8]) -> Ordering {
    let number = |s: &[u8]| std::str::from_utf8(s).ok()?.parse::<i128>().ok();
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

/// Equal bytes, or the same boolean in either flavour's words: RouterOS 7
/// types its booleans, so `?disabled=no` matches a row printed `false`.
fn equal(stored: &[u8], wanted: &[u8]) -> bool {
    stored == wanted
        || super::schema::parse_bool(stored)
            .is_some_and(|b| super::schema::parse_bool(wanted) == Some(b))
}

/// The stack, with infinitely many `true` below what was pushed.
struct Stack(Vec<bool>);

impl Stack {
    fn pop(&mut self) -> bool {
        self.0.pop().unwrap_or(true)
    }
    fn at(&self, depth: usize) -> bool {
        self.0
            .len()
            .checked_sub(depth + 1)
            .is_none_or(|i| self.0[i])
    }
}

/// Whether a row (looked up through `get`) matches every query word.
pub(crate) fn matches<'r>(queries: &[QueryWord], get: impl Fn(&[u8]) -> Option<&'r [u8]>) -> bool {
    let mut stack = Stack(Vec::with_capacity(queries.len()));
    for query in queries {
        match query {
            QueryWord::Present(k) => stack.0.push(get(k).is_some()),
            QueryWord::Absent(k) => stack.0.push(get(k).is_none()),
            // An absent property equals the empty value.
            QueryWord::Equal(k, v) => stack.0.push(equal(get(k).unwrap_or_default(), v)),
            QueryWord::Less(k, v) => {
                stack
                    .0
                    .push(get(k).is_some_and(|x| compare(x, v) == Ordering::Less));
            }
            QueryWord::Greater(k, v) => {
                stack
                    .0
                    .push(get(k).is_some_and(|x| compare(x, v) == Ordering::Greater));
            }
            QueryWord::Ops(ops) => {
                for op in ops {
                    match *op {
                        Op::Not => {
                            let top = stack.pop();
                            stack.0.push(!top);
                        }
                        Op::And => {
                            let (a, b) = (stack.pop(), stack.pop());
                            stack.0.push(a && b);
                        }
                        Op::Or => {
                            let (a, b) = (stack.pop(), stack.pop());
                            stack.0.push(a || b);
                        }
                        Op::Dot => {
                            let top = stack.at(0);
                            stack.0.push(top);
                        }
                        Op::Index(i) => {
                            let v = stack.at(i);
                            stack.0.push(v);
                        }
                        Op::Replace(i) => {
                            let v = stack.at(i);
                            stack.0.clear();
                            stack.0.push(v);
                        }
                    }
                }
            }
        }
    }
    stack.0.iter().all(|&b| b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(words: &[&str], row: &[(&str, &str)]) -> bool {
        let queries: Vec<_> = words.iter().map(|w| parse(w.as_bytes()).unwrap()).collect();
        matches(&queries, |k| {
            row.iter()
                .find(|(key, _)| key.as_bytes() == k)
                .map(|(_, v)| v.as_bytes())
        })
    }

    #[test]
    fn parses_every_form() {
        assert_eq!(parse(b"?a"), Some(QueryWord::Present(b"a".to_vec())));
        assert_eq!(parse(b"?-a"), Some(QueryWord::Absent(b"a".to_vec())));
        assert_eq!(
            parse(b"?a=b=c"),
            Some(QueryWord::Equal(b"a".to_vec(), b"b=c".to_vec()))
        );
        assert_eq!(
            parse(b"?=a=b"),
            Some(QueryWord::Equal(b"a".to_vec(), b"b".to_vec()))
        );
        assert_eq!(
            parse(b"?#0.1|"),
            Some(QueryWord::Ops(vec![Op::Index(0), Op::Index(1), Op::Or]))
        );
        assert_eq!(
            parse(b"?#|2"),
            Some(QueryWord::Ops(vec![Op::Or, Op::Replace(2)]))
        );
        assert_eq!(parse(b"?#x"), None);
        assert_eq!(parse(b"?<a"), None);
        assert_eq!(parse(b"?"), None);
    }

    #[test]
    fn stack_semantics() {
        let ether = [("type", "ether"), ("mtu", "1500")];
        let vlan = [("type", "vlan"), ("mtu", "1500"), ("comment", "x")];
        let bridge = [("type", "bridge"), ("mtu", "9000")];
        let or = ["?type=ether", "?type=vlan", "?#|"];
        assert!(eval(&or, &ether) && eval(&or, &vlan) && !eval(&or, &bridge));
        let nor = ["?type=ether", "?type=vlan", "?#|!"];
        assert!(!eval(&nor, &ether) && !eval(&nor, &vlan) && eval(&nor, &bridge));
        assert!(eval(&["?>mtu=1500"], &bridge) && !eval(&["?>mtu=1500"], &ether));
        assert!(
            eval(&["?<mtu=10000"], &bridge),
            "numeric, not string, order"
        );
        assert!(eval(&["?-comment"], &ether) && !eval(&["?-comment"], &vlan));
        assert!(eval(&["?>comment="], &vlan) && !eval(&["?>comment="], &ether));
        // Implicit AND.
        assert!(!eval(&["?type=ether", "?mtu=9000"], &ether));
        // Index: copy of the value below the top.
        assert!(eval(&["?type=ether", "?mtu=1", "?#1"], &ether));
        assert!(
            !eval(&["?type=ether", "?mtu=1", "?#1."], &ether),
            "false stays below"
        );
        assert!(eval(&[], &ether));
        assert!(eval(&["?#&&&!!"], &ether), "the stack is bottomless true");
        // Booleans match in either flavour's words.
        let off = [("disabled", "false"), ("running", "true")];
        assert!(eval(&["?disabled=no", "?running=yes"], &off));
        assert!(!eval(&["?disabled=yes"], &off) && !eval(&["?running=no"], &off));
        assert!(eval(&["?disabled=false"], &[("disabled", "no")]));
        assert!(
            !eval(&["?disabled=nope"], &off),
            "only booleans are aliases"
        );
    }
}
