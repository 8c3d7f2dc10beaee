// Tessera's GraphiQL page (app/graphiql.py): GraphiQL, React and ReactDOM come from /static/graphiql/,
// files of the project (make graphiql-assets), never a CDN; this script is a file too, so the page's
// Content-Security-Policy allows scripts from this server only (script-src 'self', no inline script).
(function () {
  var fetcher = GraphiQL.createFetcher({ url: "/graphql" });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      // Headers (the bearer token) stay in this tab's memory, not in localStorage.
      shouldPersistHeaders: false,
      defaultQuery: "# Log in with the login mutation, then put the token in the headers pane:\n" +
        '# {"Authorization": "Bearer <token>"}\n{ __typename }\n',
    })
  );
})();
