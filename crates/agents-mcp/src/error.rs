//! Why an MCP server could not be used.

/// An MCP server could not be connected to or listed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum McpError {
    /// The server's child process could not be started.
    #[error(
        "could not start the MCP server `{server}` (`{command}`): {reason}; check that the \
         command is installed and on PATH"
    )]
    Spawn {
        /// The server's name.
        server: String,
        /// The command.
        command: String,
        /// What the system said.
        reason: String,
    },
    /// The connection or the MCP handshake failed.
    #[error("could not connect to the MCP server `{server}` at {target}: {reason}")]
    Connect {
        /// The server's name.
        server: String,
        /// The command or the URL (without credentials).
        target: String,
        /// What went wrong.
        reason: String,
    },
    /// Listing the server's tools failed.
    #[error("could not list the tools of the MCP server `{server}`: {reason}")]
    List {
        /// The server's name.
        server: String,
        /// What went wrong.
        reason: String,
    },
    /// The HTTP client could not be built (headers that are not valid HTTP, no TLS roots).
    #[error("invalid HTTP settings for the MCP server `{server}`: {reason}")]
    Http {
        /// The server's name.
        server: String,
        /// What is wrong.
        reason: String,
    },
}
