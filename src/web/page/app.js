// Placeholder page script: shows the server's info and the terms recognized in a text.
"use strict";

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const reply = await response.json();
  if (!response.ok) throw new Error(reply.error ? reply.error.message : response.statusText);
  return reply;
}

async function start() {
  const session = await api("GET", "/api/session");
  const login = document.getElementById("login");
  login.hidden = session.open || session.authenticated;
  login.addEventListener("submit", async (event) => {
    event.preventDefault();
    await api("POST", "/api/session", { key: document.getElementById("key").value });
    location.reload();
  });
  document.getElementById("check").addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = document.getElementById("result");
    result.textContent = "";
    try {
      const reply = await api("POST", "/api/recognize", { text: document.getElementById("text").value });
      for (const o of reply.occurrences) {
        const line = document.createElement("div");
        line.textContent = `${o.surface} [${o.start}, ${o.end}) ${o.status}${o.suggestion ? " → " + o.suggestion : ""}`;
        result.append(line);
      }
    } catch (error) {
      result.textContent = error.message;
    }
  });
}

start();
