// Tessera's GraphiQL page (app/graphiql.py): GraphiQL, React and ReactDOM come from /static/vendor/graphiql/,
// files of the project (make graphiql-assets), never a CDN; this script is a file too, so the page's
// Content-Security-Policy allows scripts from this server only (script-src 'self', no inline script).
(function () {
  var fetcher = GraphiQL.createFetcher({ url: "/graphql" });
  // GraphiQL keeps its tabs and its history (headers and variables included: bearer tokens,
  // passwords, PHI) in localStorage unless given another store: this one lives in the tab's memory
  // and is gone when the tab closes.
  var memory = {};
  var storage = {
    getItem: function (key) { return Object.prototype.hasOwnProperty.call(memory, key) ? memory[key] : null; },
    setItem: function (key, value) { memory[key] = String(value); },
    removeItem: function (key) { delete memory[key]; },
    clear: function () { memory = {}; },
    get length() { return Object.keys(memory).length; },
  };
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      storage: storage,
      defaultEditorToolsVisibility: true,
      // Headers (the bearer token) stay in this tab's memory, not in localStorage.
      shouldPersistHeaders: false,
      defaultQuery: "# Log in with the login mutation, then put the token in the headers pane:\n" +
        '# {"Authorization": "Bearer <token>"}\n{ __typename }\n',
    })
  );
})();
