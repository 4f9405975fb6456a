/* Files on a ticket, in the browser: paste a screenshot (Ctrl+V), drop files or pick them, see
   what will be sent, take one out, and black out parts of an image before it leaves the browser.

   It enhances the plain <input type="file" name="attachments">: whatever the input holds when
   the form is sent is what the server receives, so a blacked-out image replaces the original in
   it and the original is never sent. Without this script the input still works as the browser's
   own picker. */
(function () {
  "use strict";

  var PROMPT = "This screenshot may show a patient: black out names and numbers?";

  function sizeLabel(bytes) {
    if (bytes < 1024) return bytes + " bytes";
    if (bytes < 1024 * 1024) return Math.round(bytes / 1024) + " KB";
    return (bytes / (1024 * 1024)).toFixed(1) + " MB";
  }

  function isImage(file) {
    return /^image\/(png|jpeg|gif|webp)$/.test(file.type);
  }

  function stamp() {
    var now = new Date();
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return "" + now.getFullYear() + two(now.getMonth() + 1) + two(now.getDate()) + "-" +
      two(now.getHours()) + two(now.getMinutes()) + two(now.getSeconds());
  }

  // A pasted screenshot arrives as "image.png": give it a name a technician can tell apart from
  // the other files being sent.
  function named(file, pasted, taken) {
    if (!pasted) return file;
    var ext = (file.type.split("/")[1] || "png").replace("jpeg", "jpg");
    var base = "screenshot-" + stamp();
    var name = base + "." + ext;
    for (var n = 2; taken.indexOf(name) !== -1; n++) name = base + "-" + n + "." + ext;
    return new File([file], name, { type: file.type });
  }

  function button(text, className) {
    var made = document.createElement("button");
    made.type = "button";
    made.className = className || "btn btn-small";
    made.textContent = text;
    return made;
  }

  function enhance(input) {
    var files = Array.prototype.slice.call(input.files);
    var zone = document.createElement("p");
    zone.className = "attachment-drop";
    zone.textContent = "Paste a screenshot (Ctrl+V) or drop files here.";
    var list = document.createElement("ul");
    list.className = "attachment-previews";
    list.setAttribute("aria-label", "Files to send");
    var said = document.createElement("p");
    said.className = "visually-hidden";
    said.setAttribute("role", "status");
    input.insertAdjacentElement("afterend", zone);
    zone.insertAdjacentElement("afterend", list);
    list.insertAdjacentElement("afterend", said);

    function sync() {
      var transfer = new DataTransfer();
      files.forEach(function (file) { transfer.items.add(file); });
      input.files = transfer.files;
      render();
    }

    function add(added, pasted) {
      Array.prototype.forEach.call(added, function (file) {
        files.push(named(file, pasted, files.map(function (one) { return one.name; })));
      });
      said.textContent = added.length === 1 ? "1 file added." : added.length + " files added.";
      sync();
    }

    function render() {
      list.textContent = "";
      files.forEach(function (file, index) {
        var item = document.createElement("li");
        item.className = "attachment-preview";
        if (isImage(file)) {
          var thumb = document.createElement("img");
          thumb.className = "attachment-thumb";
          thumb.alt = file.name;
          var reader = new FileReader();
          reader.onload = function () { thumb.src = reader.result; };
          reader.readAsDataURL(file);
          item.appendChild(thumb);
        }
        var name = document.createElement("span");
        name.className = "attachment-name";
        name.textContent = file.name + " (" + sizeLabel(file.size) + ")";
        item.appendChild(name);
        if (isImage(file)) {
          var prompt = document.createElement("span");
          prompt.className = "help";
          prompt.textContent = PROMPT;
          item.appendChild(prompt);
          var blackOut = button("Black out…");
          blackOut.setAttribute("aria-label", "Black out parts of " + file.name);
          blackOut.addEventListener("click", function () {
            openEditor(file, function (edited) {
              files[index] = edited;
              said.textContent = "Blacked out " + edited.name + ".";
              sync();
            });
          });
          item.appendChild(blackOut);
        }
        var remove = button("Remove", "btn btn-small btn-quiet");
        remove.setAttribute("aria-label", "Remove " + file.name);
        remove.addEventListener("click", function () {
          files.splice(index, 1);
          said.textContent = file.name + " will not be sent.";
          sync();
        });
        item.appendChild(remove);
        list.appendChild(item);
      });
    }

    input.addEventListener("change", function () {
      // The picker hands over only what was just chosen: keep what was there too.
      var chosen = Array.prototype.slice.call(input.files);
      files = files.filter(function (file) { return chosen.indexOf(file) === -1; }).concat(chosen);
      sync();
    });
    ["dragenter", "dragover"].forEach(function (kind) {
      zone.addEventListener(kind, function (event) {
        event.preventDefault();
        zone.classList.add("is-over");
      });
    });
    zone.addEventListener("dragleave", function () { zone.classList.remove("is-over"); });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("is-over");
      if (event.dataTransfer && event.dataTransfer.files.length) add(event.dataTransfer.files, false);
    });
    render();
    return { add: add, form: input.form };
  }

  /* The black-out tool: the image on a canvas; drag a box over what must not be sent (or, from
     the keyboard, move the dashed box with the arrow keys, resize it with Shift+arrows and press
     Enter to black it out); Backspace takes the last box back; Done sends the result, as a PNG,
     in place of the original. */
  function openEditor(file, done) {
    var dialog = document.createElement("dialog");
    dialog.className = "blackout";
    dialog.setAttribute("aria-labelledby", "blackout-title");
    var title = document.createElement("h2");
    title.id = "blackout-title";
    title.textContent = "Black out names and numbers";
    var help = document.createElement("p");
    help.className = "help";
    help.id = "blackout-help";
    help.textContent = "Drag a box over each name, record number or date of birth. Keyboard: " +
      "arrows move the dashed box, Shift+arrows resize it, Enter blacks it out, Backspace takes " +
      "the last box back.";
    var canvas = document.createElement("canvas");
    canvas.tabIndex = 0;
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", "The image to black out");
    canvas.setAttribute("aria-describedby", "blackout-help");
    var actions = document.createElement("div");
    actions.className = "blackout-actions";
    var undo = button("Undo last box", "btn");
    var cancel = button("Cancel", "btn btn-quiet");
    var finish = button("Done", "btn btn-primary");
    actions.appendChild(undo);
    actions.appendChild(cancel);
    actions.appendChild(finish);
    dialog.appendChild(title);
    dialog.appendChild(help);
    dialog.appendChild(canvas);
    dialog.appendChild(actions);
    document.body.appendChild(dialog);

    var image = new Image();
    var boxes = [];
    var drawing = null;
    var cursor = null;

    function paint() {
      var context = canvas.getContext("2d");
      context.drawImage(image, 0, 0);
      context.fillStyle = "#000";
      boxes.concat(drawing ? [drawing] : []).forEach(function (box) {
        context.fillRect(box.x, box.y, box.w, box.h);
      });
      if (cursor && document.activeElement === canvas) {
        context.save();
        context.setLineDash([6, 4]);
        context.lineWidth = Math.max(2, canvas.width / 400);
        context.strokeStyle = "#d00";
        context.strokeRect(cursor.x, cursor.y, cursor.w, cursor.h);
        context.restore();
      }
    }

    function point(event) {
      var rect = canvas.getBoundingClientRect();
      var scale = canvas.width / rect.width;
      return {
        x: Math.max(0, Math.min(canvas.width, (event.clientX - rect.left) * scale)),
        y: Math.max(0, Math.min(canvas.height, (event.clientY - rect.top) * scale))
      };
    }

    function normal(a, b) {
      return {
        x: Math.round(Math.min(a.x, b.x)), y: Math.round(Math.min(a.y, b.y)),
        w: Math.round(Math.abs(b.x - a.x)), h: Math.round(Math.abs(b.y - a.y))
      };
    }

    var start = null;
    canvas.addEventListener("pointerdown", function (event) {
      start = point(event);
      canvas.setPointerCapture(event.pointerId);
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!start) return;
      drawing = normal(start, point(event));
      paint();
    });
    canvas.addEventListener("pointerup", function (event) {
      if (!start) return;
      var box = normal(start, point(event));
      start = null;
      drawing = null;
      if (box.w > 2 && box.h > 2) boxes.push(box);
      paint();
    });
    canvas.addEventListener("focus", paint);
    canvas.addEventListener("blur", paint);
    canvas.addEventListener("keydown", function (event) {
      var step = Math.max(4, Math.round(canvas.width / 50));
      var moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
      if (moves[event.key]) {
        var move = moves[event.key];
        if (event.shiftKey) {
          cursor.w = Math.max(step, cursor.w + move[0] * step);
          cursor.h = Math.max(step, cursor.h + move[1] * step);
        } else {
          cursor.x = Math.max(0, Math.min(canvas.width - cursor.w, cursor.x + move[0] * step));
          cursor.y = Math.max(0, Math.min(canvas.height - cursor.h, cursor.y + move[1] * step));
        }
      } else if (event.key === "Enter" || event.key === " ") {
        boxes.push({ x: cursor.x, y: cursor.y, w: cursor.w, h: cursor.h });
      } else if (event.key === "Backspace" || event.key === "Delete") {
        boxes.pop();
      } else {
        return;
      }
      event.preventDefault();
      paint();
    });
    undo.addEventListener("click", function () { boxes.pop(); paint(); });
    function close() {
      dialog.close();
      dialog.remove();
    }
    cancel.addEventListener("click", close);
    dialog.addEventListener("cancel", function () { dialog.remove(); });
    finish.addEventListener("click", function () {
      // The result is drawn again without the keyboard's dashed box, then sent as a PNG.
      cursor = null;
      drawing = null;
      paint();
      canvas.toBlob(function (blob) {
        var name = file.name.replace(/\.[^.]+$/, "") + ".png";
        done(new File([blob], name, { type: "image/png" }));
        close();
      }, "image/png");
    });

    var reader = new FileReader();
    reader.onload = function () {
      image.onload = function () {
        canvas.width = image.naturalWidth;
        canvas.height = image.naturalHeight;
        var side = Math.round(Math.min(canvas.width, canvas.height) / 5);
        cursor = { x: 0, y: 0, w: side * 2, h: side };
        paint();
        dialog.showModal();
        canvas.focus();
      };
      image.src = reader.result;
    };
    reader.readAsDataURL(file);
  }

  var enhanced = Array.prototype.map.call(
    document.querySelectorAll('input[type="file"][name="attachments"]'), enhance
  );
  if (!enhanced.length) return;

  // A screenshot pasted anywhere on the page goes to the files of the form the cursor is in,
  // or to the page's first one. Pasted text is left to the field it is pasted into.
  document.addEventListener("paste", function (event) {
    var data = event.clipboardData;
    if (!data || !data.files || !data.files.length) return;
    var target = enhanced[0];
    enhanced.forEach(function (one) {
      if (one.form && one.form.contains(event.target)) target = one;
    });
    event.preventDefault();
    target.add(data.files, true);
  });
})();
