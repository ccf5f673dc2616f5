//! Reads `data/routeros.txt` (format: see `scripts/generate_schema.py`) into the
//! tables of [`Schema`], borrowing every name from the text.

use crate::{Argument, Command, Menu, Schema, Versions};

const FORMAT: &str = "mikrotik-rs-schema 1";

/// Parses the data, or says which line is wrong.
pub(crate) fn schema(data: &'static str) -> Result<Schema, String> {
    let mut lines = data.lines().enumerate().peekable();
    if lines.next().map(|(_, line)| line) != Some(FORMAT) {
        return Err(format!("the data does not start with `{FORMAT}`"));
    }
    let releases: Vec<&str> = match lines.next() {
        Some((_, line)) if line.starts_with("versions ") => line[9..].split(' ').collect(),
        _ => return Err("line 2 is not `versions …`".into()),
    };
    let every = Versions::all(releases.len());
    let mut hints = Vec::new();
    while let Some((_, line)) = lines.next_if(|(_, line)| line.starts_with("hint ")) {
        hints.push(&line[5..]);
    }
    let mut menus: Vec<Menu> = Vec::new();
    for (number, line) in lines {
        let wrong = || format!("line {}: `{line}`", number + 1);
        let depth = line.bytes().take_while(|&b| b == b' ').count();
        let mut fields = line[depth..].split(' ');
        let name = fields
            .next()
            .filter(|name| !name.is_empty())
            .ok_or_else(wrong)?;
        let mut versions = every;
        let mut entry_hints = Vec::new();
        let mut always_hinted = true;
        for field in fields {
            if let Some(bits) = field.strip_prefix('@') {
                versions = Versions::from_bits(u64::from_str_radix(bits, 16).map_err(|_| wrong())?);
            } else if let Some(list) = field.strip_prefix('#') {
                for index in list.split(',') {
                    let index: usize = index.parse().map_err(|_| wrong())?;
                    entry_hints.push(*hints.get(index).ok_or_else(wrong)?);
                }
            } else if field == "~" {
                always_hinted = false;
            } else {
                return Err(wrong());
            }
        }
        match depth {
            0 => menus.push(Menu {
                path: name,
                versions,
                commands: Vec::new(),
            }),
            1 => menus.last_mut().ok_or_else(wrong)?.commands.push(Command {
                name,
                versions,
                arguments: Vec::new(),
            }),
            2 => menus
                .last_mut()
                .and_then(|menu| menu.commands.last_mut())
                .ok_or_else(wrong)?
                .arguments
                .push(Argument {
                    name,
                    versions,
                    hints: entry_hints,
                    always_hinted,
                }),
            _ => return Err(wrong()),
        }
    }
    let by_path = menus
        .iter()
        .enumerate()
        .map(|(index, menu)| (menu.path, index))
        .collect();
    Ok(Schema {
        releases,
        menus,
        by_path,
    })
}
