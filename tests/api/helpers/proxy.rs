//! A TCP proxy in front of the database that a test can cut and restore.

use std::net::SocketAddr;

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct DbProxy {
    pub addr: SocketAddr,
    enabled: watch::Sender<bool>,
}

impl DbProxy {
    pub(super) async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy bind");
        let addr = listener.local_addr().expect("proxy addr");
        let (enabled, rx) = watch::channel(true);
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    break;
                };
                let mut rx = rx.clone();
                if !*rx.borrow() {
                    drop(client);
                    continue;
                }
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut upstream) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = copy_bidirectional(&mut client, &mut upstream) => {}
                        _ = rx.wait_for(|on| !*on) => {}
                    }
                });
            }
        });
        DbProxy { addr, enabled }
    }

    /// Cuts every open connection and refuses new ones, or lets them through again.
    pub fn set_enabled(&self, on: bool) {
        self.enabled.send_replace(on);
    }
}
