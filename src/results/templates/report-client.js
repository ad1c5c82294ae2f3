// Draws the report's charts with uPlot from the inlined data; marks run events as vertical lines.
// Sets window.reportReady = true (and window.reportCharts: points per chart) when done, for the browser test.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var root = document.getElementById("charts");
  var colors = [
    "#2563eb",
    "#dc2626",
    "#16a34a",
    "#9333ea",
    "#ea580c",
    "#0891b2",
    "#be185d",
    "#4d7c0f",
    "#7c3aed",
    "#0f766e",
  ];
  var eventColor = { threshold_breach: "#b91c1c", node_down: "#b91c1c", node_left: "#b45309" };
  var drawn = {};

  function eventsPlugin() {
    return {
      hooks: {
        draw: [
          function (u) {
            var ctx = u.ctx;
            ctx.save();
            data.events.forEach(function (e) {
              var x = u.valToPos(e.t, "x", true);
              if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
              ctx.strokeStyle = eventColor[e.kind] || "#6b7280";
              ctx.setLineDash([4, 3]);
              ctx.lineWidth = 1;
              ctx.beginPath();
              ctx.moveTo(x, u.bbox.top);
              ctx.lineTo(x, u.bbox.top + u.bbox.height);
              ctx.stroke();
              ctx.setLineDash([]);
              ctx.fillStyle = ctx.strokeStyle;
              ctx.font = 10 * devicePixelRatio + "px sans-serif";
              ctx.fillText(e.kind, x + 3, u.bbox.top + 12 * devicePixelRatio);
            });
            ctx.restore();
          },
        ],
      },
    };
  }

  data.charts.forEach(function (c) {
    var box = document.createElement("div");
    box.className = "chart";
    box.id = "chart-" + c.id;
    var h = document.createElement("h3");
    h.textContent = c.title + " (" + c.unit + (c.unit2 ? " / " + c.unit2 : "") + ")";
    box.appendChild(h);
    root.appendChild(box);
    var points = 0;
    c.series.forEach(function (s) {
      s.values.forEach(function (v) {
        if (v !== null) points++;
      });
    });
    drawn[c.id] = points;
    if (data.t.length === 0 || points === 0) {
      var p = document.createElement("div");
      p.className = "nodata";
      p.textContent = "no values in this run";
      box.appendChild(p);
      return;
    }
    var opts = {
      width: Math.max(480, Math.min(560, root.clientWidth / 2 - 24)),
      height: 220,
      scales: {
        x: {
          time: true,
          range: function () {
            return data.range;
          },
        },
      },
      series: [{}].concat(
        c.series.map(function (s, i) {
          return {
            label: s.label,
            stroke: colors[i % colors.length],
            // a server figure beside a load figure: its own scale, on the right-hand axis
            scale: s.axis === 2 ? "y2" : "y",
            width: 1.5,
            spanGaps: false,
            points: { show: data.t.length < 60 },
          };
        }),
      ),
      axes: [{}, { label: c.unit, size: 60 }].concat(
        c.unit2 ? [{ scale: "y2", side: 1, label: c.unit2, size: 60, grid: { show: false } }] : [],
      ),
      plugins: [eventsPlugin()],
    };
    new uPlot(
      opts,
      [data.t].concat(
        c.series.map(function (s) {
          return s.values;
        }),
      ),
      box,
    );
  });

  window.reportCharts = drawn;
  window.reportReady = true;
})();
