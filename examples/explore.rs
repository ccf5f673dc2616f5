//! Prints what RouterOS 7 offers under a menu: its commands, each command's
//! arguments with the router's type hints and the releases they exist in, and its
//! sub-menus. The data is the command tree `command!` checks against.
//!
//! ```text
//! cargo run --example explore -- /ip/firewall/filter
//! cargo run --example explore -- /ip/address/add     # one command
//! cargo run --example explore -- /                   # the root menu
//! ```

use mikrotik_rs::schema::{Command, Menu, schema};

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| "/".to_owned());
    let schema = schema();
    let releases = schema.releases();
    println!(
        "RouterOS command tree, releases {} … {} (all packages)\n",
        releases.first().unwrap_or(&"?"),
        releases.last().unwrap_or(&"?")
    );
    if let Some(menu) = schema.menu(&path) {
        print_menu(menu);
        let submenus: Vec<&str> = schema
            .submenus(&path)
            .map(Menu::path)
            .filter(|sub| !sub[path.len()..].trim_start_matches('/').contains('/'))
            .collect();
        if !submenus.is_empty() {
            println!("\nsub-menus: {}", submenus.join(", "));
        }
    } else if let Some((menu, command)) = schema.command(&path) {
        println!("{} (menu {}, {})", path, menu.path(), menu.versions());
        print_command(command);
    } else {
        // The check's own message, with its suggestions.
        match mikrotik_rs::schema::check::path(&path, schema.all_versions()) {
            Ok(target) => match target.command() {
                Some(print) => {
                    println!("{path}: the API's own, taking the arguments of `print`");
                    print_command(print);
                }
                None => println!("{path}: one of the API's own commands"),
            },
            Err(message) => {
                eprintln!("{message}");
                std::process::exit(1);
            }
        }
    }
}

fn print_menu(menu: &Menu) {
    println!("menu {} ({})", menu.path(), menu.versions());
    for command in menu.commands() {
        println!(
            "\n  {} ({})",
            menu.command_path(command.name()),
            command.versions()
        );
        print_command(command);
    }
}

fn print_command(command: &Command) {
    for argument in command.arguments() {
        let hints = argument.hints().join(" | ");
        let hint = if hints.is_empty() {
            String::new()
        } else if argument.always_hinted() {
            format!("  {hints}")
        } else {
            format!("  {hints} (not in every release)")
        };
        let line = format!(
            "      {:<28} {:<22}{hint}",
            argument.name(),
            argument.versions().to_string()
        );
        println!("{}", line.trim_end());
    }
}
