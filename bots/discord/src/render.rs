//! The core's replies as Discord messages: text split below the 2,000-character limit (Discord
//! reads the core's light markdown as it is), buttons in rows of at most five, the core's
//! pick-several menus as select menus, and a button that opens a form as a modal.

use poise::serenity_prelude as serenity;
use runcoach_core::chat::{Button, Form, Reply};
use serenity::{
    ButtonStyle, CreateActionRow, CreateButton, CreateInputText, CreateModal, CreateSelectMenu, CreateSelectMenuKind,
    CreateSelectMenuOption, InputTextStyle,
};

/// Discord's limit is 2,000 characters per message.
pub const MAX_CHUNK: usize = 1_990;
/// Custom ids of buttons that open a form: `form:<id>:<lang>`.
pub const FORM_BUTTON: &str = "form:";
/// Custom id of a submitted modal: `modal:<id>`.
pub const MODAL: &str = "modal:";
/// Custom id of the select menu standing for too many buttons; the value is the button's data.
pub const PICK: &str = "pick";
/// Custom ids of the core's pick-several menus: `choice:<prefix>`.
pub const CHOICE: &str = "choice:";

const MAX_ROWS: usize = 5;
const MAX_BUTTONS_PER_ROW: usize = 5;
const MAX_SELECT_OPTIONS: usize = 25;
const MAX_CUSTOM_ID: usize = 100;

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Long text split below the platform's limit (the core's splitter, shared by the adapters).
pub use runcoach_core::chat::split_text as split;

/// The reply's text in message-sized chunks (none for an attachment alone).
#[must_use]
pub fn chunks(reply: &Reply) -> Vec<String> {
    if reply.text.trim().is_empty() { Vec::new() } else { split(&reply.text, MAX_CHUNK) }
}

fn usable(b: &Button) -> bool {
    !b.data.is_empty() && b.data.len() <= MAX_CUSTOM_ID
}

/// The action rows for a reply: its buttons (five a row; all of them as one select menu when they
/// need more rows than Discord allows), its pick-several menu, and the button opening its form.
#[must_use]
pub fn components(reply: &Reply) -> Vec<CreateActionRow> {
    let mut rows = Vec::new();
    let mut reserved = 0;
    if reply.choice.is_some() {
        reserved += 1;
    }
    if reply.form.is_some() {
        reserved += 1;
    }
    // Discord refuses a message whose custom ids repeat: keep the first of each.
    let mut seen = std::collections::HashSet::new();
    let buttons: Vec<Vec<&Button>> = reply
        .buttons
        .iter()
        .map(|row| row.iter().filter(|b| usable(b) && seen.insert(b.data.clone())).collect::<Vec<_>>())
        .filter(|row| !row.is_empty())
        .collect();
    let split_rows: Vec<Vec<&Button>> =
        buttons.iter().flat_map(|row| row.chunks(MAX_BUTTONS_PER_ROW).map(<[&Button]>::to_vec)).collect();
    if split_rows.len() + reserved <= MAX_ROWS {
        for row in split_rows {
            rows.push(CreateActionRow::Buttons(
                row.iter()
                    .map(|b| CreateButton::new(b.data.clone()).label(clip(&b.label, 80)).style(ButtonStyle::Secondary))
                    .collect(),
            ));
        }
    } else {
        let options: Vec<CreateSelectMenuOption> = split_rows
            .iter()
            .flatten()
            .take(MAX_SELECT_OPTIONS)
            .map(|b| CreateSelectMenuOption::new(clip(&b.label, 100), b.data.clone()))
            .collect();
        rows.push(CreateActionRow::SelectMenu(CreateSelectMenu::new(PICK, CreateSelectMenuKind::String { options })));
    }
    if let Some(choice) = &reply.choice {
        let id = format!("{CHOICE}{}", choice.prefix);
        let options: Vec<CreateSelectMenuOption> = choice
            .options
            .iter()
            .take(MAX_SELECT_OPTIONS)
            .map(|o| CreateSelectMenuOption::new(clip(&o.label, 100), clip(&o.data, 100)))
            .collect();
        let count = u8::try_from(options.len()).unwrap_or(25);
        if id.len() <= MAX_CUSTOM_ID && count > 0 {
            let min = choice.min.clamp(1, count);
            rows.push(CreateActionRow::SelectMenu(
                CreateSelectMenu::new(id, CreateSelectMenuKind::String { options })
                    .placeholder(clip(&choice.placeholder, 150))
                    .min_values(min)
                    .max_values(choice.max.clamp(min, count)),
            ));
        }
    }
    if let Some(form) = &reply.form {
        rows.push(CreateActionRow::Buttons(vec![
            CreateButton::new(format!("{FORM_BUTTON}{}:{}", form.id, form.lang.code()))
                .label(clip(&format!("📝 {}", form.title), 80))
                .style(ButtonStyle::Primary),
        ]));
    }
    rows
}

/// The modal for a form: one text input per field, in order.
pub fn modal(form: &Form) -> CreateModal {
    let inputs = form
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut input = CreateInputText::new(InputTextStyle::Short, clip(&f.label, 45), format!("f{i}"))
                .required(true)
                .min_length(f.min_len.min(4000))
                .max_length(f.max_len.clamp(1, 4000));
            if let Some(p) = &f.placeholder {
                input = input.placeholder(clip(p, 100));
            }
            CreateActionRow::InputText(input)
        })
        .collect();
    CreateModal::new(format!("{MODAL}{}", form.id), clip(&form.title, 45)).components(inputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(n: usize, prefix: &str) -> Vec<Button> {
        (0..n).map(|i| Button::new(format!("{prefix}{i}"), format!("{prefix}:{i}"))).collect()
    }

    fn json(rows: &[CreateActionRow]) -> serde_json::Value {
        serde_json::to_value(rows).unwrap_or_default()
    }

    #[test]
    fn long_text_is_split_below_the_limit() {
        let text = "mot ".repeat(1_500);
        let chunks = split(&text, MAX_CHUNK);
        assert!(chunks.len() >= 3);
        assert!(chunks.iter().all(|c| c.chars().count() <= 2_000));
        assert_eq!(chunks.join(" ").split_whitespace().count(), 1_500);
    }

    #[test]
    fn buttons_go_five_a_row_or_into_a_menu() {
        let reply = Reply::text("x").with_buttons(vec![row(7, "g")]);
        let v = json(&components(&reply));
        assert_eq!(v.as_array().map(Vec::len), Some(2));
        assert_eq!(v[0]["components"].as_array().map(Vec::len), Some(5));
        assert_eq!(v[1]["components"].as_array().map(Vec::len), Some(2));
        // Thirty buttons need more than five rows: one select menu instead.
        let many = Reply::text("x").with_buttons((0..6).map(|r| row(5, &format!("r{r}"))).collect());
        let v = json(&components(&many));
        assert_eq!(v.as_array().map(Vec::len), Some(1));
        assert_eq!(v[0]["components"][0]["custom_id"], PICK);
        assert_eq!(v[0]["components"][0]["options"].as_array().map(Vec::len), Some(25));
        // Repeated ids are dropped, not sent.
        let twice = Reply::text("x").with_buttons(vec![vec![Button::new("a", "same"), Button::new("b", "same")]]);
        assert_eq!(json(&components(&twice))[0]["components"].as_array().map(Vec::len), Some(1));
    }
}
