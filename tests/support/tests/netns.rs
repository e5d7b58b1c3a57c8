//! [`NetNs`]: a namespace of the test's own with the veth pair, entered by a thread, deleted
//! on drop. Needs root (CI runs as root); without it the test fails with the reason.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::{SocketAddr, UdpSocket};
use std::process::Command;

use agents_test_support::NetNs;

fn namespaces() -> String {
    String::from_utf8(Command::new("ip").args(["netns", "list"]).output().unwrap().stdout).unwrap()
}

#[test]
fn a_namespace_has_the_veth_pair_inside_only_and_is_deleted_on_drop() {
    let ns = NetNs::create().unwrap_or_else(|error| panic!("{error}"));
    let name = ns.name().to_owned();
    assert!(namespaces().contains(&name));

    let client = SocketAddr::from((NetNs::CLIENT_ADDR, 0));
    // Outside, the address does not exist: nothing of the namespace leaks out.
    assert!(UdpSocket::bind(client).is_err());
    // Inside, the two ends of the veth pair reach each other.
    let inside = ns
        .spawn_thread(move || {
            let server = UdpSocket::bind(SocketAddr::from((NetNs::SERVER_ADDR, 0))).unwrap();
            let sender = UdpSocket::bind(client).unwrap();
            sender.send_to(b"ping", server.local_addr().unwrap()).unwrap();
            let mut buffer = [0_u8; 4];
            server.recv_from(&mut buffer).unwrap();
            buffer
        })
        .unwrap();
    assert_eq!(&inside.join().unwrap().unwrap(), b"ping");
    // A child process runs inside too.
    let output = ns.command("ip").args(["-br", "addr"]).output().unwrap();
    assert!(String::from_utf8_lossy(&output.stdout).contains(&NetNs::SERVER_ADDR.to_string()));

    drop(ns);
    assert!(!namespaces().contains(&name), "the namespace {name} was left behind");
}
