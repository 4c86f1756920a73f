// catalog serve: play a spoken hit from its second, seek from the transcript, show the hit line.
// The only script the pages run (the Content-Security-Policy allows no inline script).
"use strict";

function seek(player, seconds, play) {
  const go = () => {
    player.currentTime = seconds;
    if (play) {
      player.play().catch(() => {}); // a browser may refuse to play without sound output: seeking is enough
    }
  };
  if (player.readyState >= 1) {
    go();
  } else {
    player.addEventListener("loadedmetadata", go, { once: true });
    if (player.preload === "none") {
      player.preload = "metadata";
      player.load();
    }
  }
}

document.addEventListener("click", (event) => {
  const target = event.target.closest("[data-seek]");
  if (!target || event.target.closest("a.source")) {
    return;
  }
  const player = document.getElementById(target.dataset.player);
  if (!player) {
    return;
  }
  event.preventDefault();
  player.classList.add("playing");
  seek(player, parseFloat(target.dataset.seek), true);
});

document.addEventListener("DOMContentLoaded", () => {
  const line = document.querySelector(".line.hit") || document.querySelector(".line:target");
  if (!line) {
    return;
  }
  line.scrollIntoView({ block: "center" });
  const player = document.getElementById(line.dataset.player || "");
  if (player) {
    seek(player, parseFloat(line.dataset.seek), false);
  }
});
