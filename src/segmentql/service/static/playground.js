// segmentql playground: live diagnostics from /v1/check, completion from /v1/complete, and
// evaluation with an explanation from /v1/evaluate. Plain browser JavaScript, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const query = $("query");
const highlight = $("highlight");
const keyInput = $("key");

keyInput.value = sessionStorage.getItem("segmentql-key") || "";
keyInput.addEventListener("input", () => {
  sessionStorage.setItem("segmentql-key", keyInput.value);
  refresh();
});

async function call(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${keyInput.value}` },
    body: JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) {
    const error = new Error(data.detail || response.statusText);
    error.problem = data;
    throw error;
  }
  return data;
}

// Spans count code points (as Python does); JavaScript strings count UTF-16 units.
const points = (text) => Array.from(text);
const escape = (text) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function paint(text, diagnostics) {
  const chars = points(text);
  const marks = diagnostics
    .filter((d) => d.span.end > d.span.start)
    .sort((a, b) => a.span.start - b.span.start);
  let html = "";
  let at = 0;
  for (const d of marks) {
    const start = Math.max(d.span.start, at);
    const end = Math.min(d.span.end, chars.length);
    if (end <= start) continue;
    html += escape(chars.slice(at, start).join(""));
    html += `<span class="diag ${d.severity}" data-code="${d.code}" title="${escape(d.message)}">` +
      escape(chars.slice(start, end).join("")) + "</span>";
    at = end;
  }
  // a trailing newline needs a character after it to keep the two layers aligned
  highlight.innerHTML = html + escape(chars.slice(at).join("")) + "\u200b";
}

function listDiagnostics(text, diagnostics) {
  const list = $("diagnostics");
  list.innerHTML = "";
  for (const d of diagnostics) {
    const item = document.createElement("li");
    item.className = d.severity;
    item.dataset.code = d.code;
    const where = `${d.span.line}:${d.span.column}`;
    item.innerHTML = `<strong>${d.severity}[${d.code}]</strong> ${escape(d.message)} ` +
      `<small>(${where})</small>`;
    if (d.help) {
      const help = document.createElement("span");
      help.className = "help";
      help.textContent = `help: ${d.help.replace(/`/g, "")}`;
      item.appendChild(help);
    }
    for (const suggestion of d.suggestions || []) {
      const fix = document.createElement("button");
      fix.type = "button";
      fix.className = "fix";
      fix.textContent = `use ${suggestion}`;
      fix.addEventListener("click", () => {
        const chars = points(query.value);
        chars.splice(d.span.start, d.span.end - d.span.start, ...points(suggestion));
        query.value = chars.join("");
        refresh();
      });
      item.appendChild(fix);
    }
    list.appendChild(item);
  }
}

async function check() {
  const text = query.value;
  try {
    const { diagnostics } = await call("/v1/check", { query: text, expect_boolean: true });
    if (text !== query.value) return; // the text moved on while we waited
    paint(text, diagnostics);
    listDiagnostics(text, diagnostics);
  } catch (error) {
    paint(text, []);
    $("diagnostics").innerHTML = `<li class="error">${escape(error.message)}</li>`;
  }
}

async function complete() {
  const text = query.value;
  const offset = points(text.slice(0, query.selectionStart)).length;
  const list = $("completions");
  try {
    const { items } = await call("/v1/complete", { query: text, offset });
    list.innerHTML = "";
    for (const item of items.slice(0, 12)) {
      const entry = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = item.label;
      button.title = `${item.kind} ${item.detail}`.trim();
      button.addEventListener("click", () => insert(item.label));
      entry.appendChild(button);
      list.appendChild(entry);
    }
  } catch (error) {
    list.innerHTML = "";
  }
}

function insert(label) {
  const cursor = query.selectionStart;
  const before = query.value.slice(0, cursor);
  const word = before.match(/[\p{L}\p{N}_]*$/u)[0];
  query.value = before.slice(0, cursor - word.length) + label + query.value.slice(cursor);
  const at = cursor - word.length + label.length;
  query.focus();
  query.setSelectionRange(at, at);
  refresh();
}

let timer = null;
function refresh() {
  paint(query.value, []);
  clearTimeout(timer);
  timer = setTimeout(() => {
    check();
    complete();
  }, 150);
}
query.addEventListener("input", refresh);
query.addEventListener("click", () => complete());
query.addEventListener("scroll", () => { highlight.scrollTop = query.scrollTop; });

for (const radio of document.querySelectorAll('input[name="source"]')) {
  radio.addEventListener("change", () => {
    const json = document.querySelector('input[name="source"]:checked').value === "json";
    $("variables").hidden = !json;
    $("user-id").hidden = json;
  });
}

function show(value) {
  return value === undefined ? "null" : JSON.stringify(value);
}

$("evaluate").addEventListener("click", async () => {
  const decision = $("decision");
  const explanation = $("explanation");
  explanation.innerHTML = "";
  const body = { query: query.value };
  if (document.querySelector('input[name="source"]:checked').value === "json") {
    try {
      body.variables = JSON.parse($("variables").value || "{}");
    } catch (error) {
      decision.className = "failed";
      decision.textContent = `the profile is not valid JSON: ${error.message}`;
      return;
    }
  } else {
    body.user_id = $("user-id").value;
  }
  if ($("now").value) body.now = $("now").value;
  try {
    const result = await call("/v1/evaluate", body);
    if (result.error) {
      decision.className = "failed";
      decision.textContent = `error[${result.error.code}]: ${result.error.message}`;
    } else {
      decision.className = result.matched ? "match" : "nomatch";
      decision.textContent = result.matched ? "match" :
        `no match (value: ${show(result.value)})`;
    }
    for (const clause of result.explanation.clauses) {
      const item = document.createElement("li");
      const value = clause.evaluated ? show(clause.value) : "not evaluated";
      item.className = String(clause.value);
      item.style.marginLeft = `${(clause.depth || 0) * 1.2}rem`;
      item.textContent = `${clause.text}  =>  ${value}`;
      for (const read of clause.reads) {
        const sub = document.createElement("div");
        sub.textContent = `reads ${read.text} = ${show(read.value)}`;
        item.appendChild(sub);
      }
      explanation.appendChild(item);
    }
  } catch (error) {
    decision.className = "failed";
    decision.textContent = error.message;
  }
});

refresh();
