//! Delivering one message: SMTP through lettre, or a `.eml` file per message.

use std::future::Future;
use std::pin::Pin;

use anyhow::Context;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use super::OutgoingEmail;
use super::settings::{MailSettings, MailTransport};

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + 'a>>;

/// Anything that can deliver a message. Tests wrap a real transport to simulate outages.
pub trait Mailer: Send + Sync {
    fn send<'a>(&'a self, email: &'a OutgoingEmail) -> SendFuture<'a>;
}

enum Inner {
    File(AsyncFileTransport<Tokio1Executor>),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

pub struct LettreMailer {
    from: Mailbox,
    inner: Inner,
}

impl LettreMailer {
    pub fn from_settings(settings: &MailSettings) -> anyhow::Result<Self> {
        let from: Mailbox = settings
            .from
            .parse()
            .context("APP_MAIL_FROM is not a valid mailbox")?;
        let inner = match &settings.transport {
            MailTransport::File { dir } => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating the mail directory {}", dir.display()))?;
                Inner::File(AsyncFileTransport::new(dir))
            }
            MailTransport::Smtp { url } => Inner::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .context("APP_SMTP_URL is not a usable SMTP URL")?
                    .build(),
            ),
        };
        Ok(LettreMailer { from, inner })
    }

    fn message(&self, email: &OutgoingEmail) -> anyhow::Result<Message> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(email.to.parse().context("invalid recipient")?)
            .subject(email.subject.clone())
            .header(ContentType::TEXT_PLAIN);
        if let Some(reply_to) = &email.reply_to {
            builder = builder.reply_to(reply_to.parse().context("invalid reply-to")?);
        }
        // Quoted-printable: links run past the 76 characters a 7bit/8bit line may hold.
        let body =
            Body::new_with_encoding(email.body.clone(), ContentTransferEncoding::QuotedPrintable)
                .map_err(|_| anyhow::anyhow!("the body cannot be encoded"))?;
        Ok(builder.body(body)?)
    }
}

impl Mailer for LettreMailer {
    fn send<'a>(&'a self, email: &'a OutgoingEmail) -> SendFuture<'a> {
        Box::pin(async move {
            let message = self.message(email)?;
            match &self.inner {
                Inner::File(transport) => {
                    transport
                        .send(message)
                        .await
                        .context("writing the .eml file")?;
                }
                Inner::Smtp(transport) => {
                    transport.send(message).await.context("SMTP delivery")?;
                }
            }
            Ok(())
        })
    }
}
