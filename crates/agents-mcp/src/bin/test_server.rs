//! The test MCP server over stdio (feature `test-server`), for agents-mcp's tests and benchmarks.

use agents_mcp::test_server::TestServer;
use rmcp::ServiceExt;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let service = TestServer::new(true).serve(rmcp::transport::stdio()).await?;
    service.waiting().await?;
    Ok(())
}
