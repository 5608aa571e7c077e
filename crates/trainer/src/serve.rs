//! `zoo serve`: this machine's devices for other zoo commands, over WebSocket through Burn's
//! remote backend (the client side is [`crate::remote`]).

use crate::device::{is_remote, select_device};
use anyhow::Context;
use burn::server::{RemoteServer, WebSocketTransport};
use clap::Parser;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};

/// `zoo serve`: host this machine's devices for `--device ws://…` clients.
#[derive(Parser, Debug)]
#[command(
    about = "Serve this machine's devices to other zoo commands over WebSocket (Burn's \
                   remote backend): they train with `--device ws://HOST:PORT[#i]`"
)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free one (printed at start)
    #[arg(long, default_value = "127.0.0.1:7878")]
    pub listen: String,
    /// Allow a --listen address other than loopback. WebSocket is unencrypted and any client
    /// that reaches the port may run operations: use it on a trusted network only
    #[arg(long)]
    pub public: bool,
    /// Devices to host, in the order clients index them (`ws://HOST:PORT#1` is the second)
    #[arg(long, value_delimiter = ',', default_value = "flex")]
    pub devices: Vec<String>,
}

/// Binds `--listen`, prints where clients connect, and serves until Ctrl+C or SIGTERM.
pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let address: SocketAddr = args
        .listen
        .to_socket_addrs()
        .with_context(|| format!("--listen {}: not a HOST:PORT address", args.listen))?
        .next()
        .with_context(|| format!("--listen {}: resolves to no address", args.listen))?;
    if !address.ip().is_loopback() && !args.public {
        return Err(crate::UsageError(format!(
            "--listen {}: serving beyond this machine needs --public (WebSocket is unencrypted \
             and any client that reaches the port may run operations)",
            args.listen
        ))
        .into());
    }
    let mut devices = Vec::new();
    for name in &args.devices {
        if is_remote(name) {
            return Err(crate::UsageError(format!(
                "--devices {name}: a server hosts local devices, not remote ones"
            ))
            .into());
        }
        devices.push(select_device(Some(name))?.1);
    }
    let listener = TcpListener::bind(address)
        .with_context(|| format!("--listen {}: cannot bind", args.listen))?;
    let bound = listener.local_addr()?;
    for (index, name) in args.devices.iter().enumerate() {
        println!("serving {name} as ws://{bound}#{index}");
    }
    println!(
        "clients: --device ws://{bound} (or --devices ws://{bound}#0,ws://{bound}#1,...); Ctrl+C stops"
    );
    std::io::stdout().flush()?;
    RemoteServer::new(devices)
        .serve(WebSocketTransport::from_listener(listener))
        .map_err(|e| anyhow::anyhow!("serving on ws://{bound}: {e}"))
}
