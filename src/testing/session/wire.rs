//! The mock's replies in wire form: words through the protocol core's
//! encoder, so the mock and the client can never frame a word differently.

use super::*;

/// One word of `parts`, framed by the protocol core's encoder.
pub(super) fn put_word(out: &mut Vec<u8>, parts: &[&[u8]]) {
    crate::protocol::encode_word_parts(parts, out);
}

/// The reply word, then `.tag` right after it.
pub(super) fn begin(out: &mut Vec<u8>, word: &[u8], tag: Option<&[u8]>) {
    put_word(out, &[word]);
    if let Some(tag) = tag {
        put_word(out, &[b".tag=", tag]);
    }
}

pub(super) fn attr(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    put_word(out, &[b"=", key, b"=", value]);
}

pub(super) fn done(out: &mut Vec<u8>, tag: Option<&[u8]>, ret: Option<&[u8]>) {
    begin(out, b"!done", tag);
    if let Some(ret) = ret {
        // `attr(out, b"ret", ret)` in two parts, not four: one per add.
        put_word(out, &[b"=ret=", ret]);
    }
    out.push(0);
}

pub(super) fn trap(out: &mut Vec<u8>, tag: Option<&[u8]>, category: Option<u32>, message: &[u8]) {
    begin(out, b"!trap", tag);
    if let Some(category) = category {
        attr(out, b"category", category.to_string().as_bytes());
    }
    attr(out, b"message", message);
    out.push(0);
}

pub(super) fn trap_done(tag: Option<&[u8]>, category: Option<u32>, message: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    trap(&mut out, tag, category, message);
    done(&mut out, tag, None);
    out
}

pub(super) fn fatal(reason: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    put_word(&mut out, &[b"!fatal"]);
    put_word(&mut out, &[reason]);
    out.push(0);
    out
}

/// A `!re` of `attrs`, only the keys of `proplist` if given, `.dead` if given.
pub(super) fn row<'a>(
    out: &mut Vec<u8>,
    tag: Option<&[u8]>,
    attrs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
    proplist: Option<&[Vec<u8>]>,
    dead: Option<&[u8]>,
) {
    begin(out, b"!re", tag);
    for (k, v) in attrs {
        if proplist.is_none_or(|p| p.iter().any(|p| p == k)) {
            attr(out, k, v);
        }
    }
    if let Some(dead) = dead {
        attr(out, b".dead", dead);
    }
    out.push(0);
}

pub(super) fn pairs_row(out: &mut Vec<u8>, tag: Option<&[u8]>, attrs: &[(&str, &str)]) {
    begin(out, b"!re", tag);
    for (k, v) in attrs {
        attr(out, k.as_bytes(), v.as_bytes());
    }
    out.push(0);
}

// ------------------------------------------------------- commands in flight

/// A recorded sentence with `tag` put right after its first word.
pub(super) fn tagged(out: &mut Vec<u8>, tag: Option<&[u8]>, words: &[Vec<u8>]) {
    let Some((first, rest)) = words.split_first() else {
        return;
    };
    begin(out, first, tag);
    for word in rest {
        put_word(out, &[word]);
    }
    out.push(0);
}

pub(super) fn encode_reply(reply: &Reply, tag: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for attrs in &reply.rows {
        let attrs = attrs.iter().map(|(k, v)| (&k[..], &v[..]));
        row(&mut out, tag, attrs, None, None);
    }
    for (category, message) in &reply.traps {
        trap(&mut out, tag, *category, message);
    }
    done(&mut out, tag, reply.ret.as_deref());
    out
}
