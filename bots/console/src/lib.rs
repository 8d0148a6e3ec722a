//! Console adapter: a chat with the core on stdin/stdout. Works in a terminal (with a prompt) and
//! with piped input (one message per line, replies on stdout), so it can be scripted.
//!
//! Buttons are shown numbered; typing the number presses the button. Attachments are written to
//! a folder and their path is printed.

use std::io;
use std::path::{Path, PathBuf};

use runcoach_core::chat::{BotCore, Button, ChatRef, Content, Incoming, Reply, Sender};
use runcoach_core::domain::Platform;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};

pub struct ConsoleSession<'a> {
    pub core: &'a BotCore,
    pub user: String,
    pub language_code: Option<String>,
    /// Show a prompt and a banner (stdin is a terminal).
    pub interactive: bool,
    /// Where attachments (exports, charts) are saved.
    pub outbox: PathBuf,
}

impl ConsoleSession<'_> {
    fn sender(&self) -> Sender {
        Sender {
            platform: Platform::Console,
            user_id: self.user.clone(),
            username: Some(self.user.clone()),
            language_code: self.language_code.clone(),
        }
    }

    /// Reads messages until end of input (or `/quit`), answering each.
    pub async fn run<R, W>(&self, input: R, mut output: W) -> io::Result<()>
    where
        R: AsyncBufRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let mut input = input;
        let mut buttons: Vec<Button> = Vec::new();
        let mut line = Vec::new();
        if self.interactive {
            output.write_all(b"runcoach console \xe2\x80\x94 /help for commands, /quit to leave.\n").await?;
        }
        loop {
            if self.interactive {
                output.write_all(b"> ").await?;
                output.flush().await?;
            }
            line.clear();
            if input.read_until(b'\n', &mut line).await? == 0 {
                break;
            }
            // Invalid UTF-8 is replaced, never fatal.
            let text = String::from_utf8_lossy(&line);
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            if matches!(text, "/quit" | "/exit" | "/quitter") {
                break;
            }
            let content = match text.parse::<usize>().ok().and_then(|n| n.checked_sub(1)).and_then(|i| buttons.get(i)) {
                Some(button) => Content::Button(button.data.clone()),
                None => Content::Text(text.to_owned()),
            };
            let replies = self
                .core
                .handle(Incoming {
                    sender: self.sender(),
                    chat: ChatRef::new(format!("console:{}", self.user), true),
                    content,
                })
                .await;
            buttons = self.render(&replies, &mut output).await?;
            output.flush().await?;
        }
        Ok(())
    }

    async fn render<W: AsyncWrite + Unpin>(&self, replies: &[Reply], output: &mut W) -> io::Result<Vec<Button>> {
        let mut buttons = Vec::new();
        for reply in replies {
            let mut text = reply.text.clone();
            for row in &reply.buttons {
                let shown: Vec<String> = row
                    .iter()
                    .map(|b| {
                        buttons.push(b.clone());
                        format!("[{}] {}", buttons.len(), b.label)
                    })
                    .collect();
                text.push_str(&format!("\n  {}", shown.join("   ")));
            }
            if let Some(att) = &reply.attachment {
                let path = save_attachment(&self.outbox, &att.name, &att.data).await?;
                text.push_str(&format!("\n📎 {}", path.display()));
            }
            output.write_all(text.as_bytes()).await?;
            output.write_all(b"\n\n").await?;
        }
        Ok(buttons)
    }
}

async fn save_attachment(dir: &Path, name: &str, data: &[u8]) -> io::Result<PathBuf> {
    tokio::fs::create_dir_all(dir).await?;
    // The name comes from the core, but keep it a plain file name all the same.
    let safe: String =
        name.chars().map(|c| if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect();
    let path = dir.join(safe);
    tokio::fs::write(&path, data).await?;
    Ok(path)
}
