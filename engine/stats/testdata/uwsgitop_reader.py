#!/usr/bin/python3
"""A stats reader that behaves like uwsgitop 0.12 (xrmx/uwsgitop).

uwsgitop is on PyPI only, so it cannot be installed here; this script reads
a stats server the way it does and renders its screen with curses on a
pseudo-terminal, then prints what was rendered, as JSON, on stdout:

  * the address is interpreted as uwsgitop does: "http://..." is fetched
    with urllib; an address containing ':' is TCP (split with rsplit);
    "@name" is an abstract unix socket; anything else a unix socket path;
  * on a socket it sends nothing, calls recv(4096) until EOF and decodes
    each chunk separately as UTF-8 with errors ignored, then json.loads;
  * it polls --polls times, computing RPS from the change in "requests"
    between polls, and renders uwsgitop's header, node line, worker table
    and the used cores under each worker (uwsgitop's view after pressing
    'a' twice);
  * unlike uwsgitop, which skips some keys silently, every key uwsgitop
    reads is required here with the type uwsgitop needs, plus the keys the
    issue requires (cores with in_request, vars and req_info). Problems are
    reported in "errors" and make the exit status 1.

Usage: uwsgitop_reader.py [--polls N] [--interval S] ADDRESS
"""
import argparse
import collections
import curses
import errno
import fcntl
import json
import os
import pty
import socket
import struct
import sys
import termios
import threading
import time
import urllib.request

ROWS, COLS = 60, 220


def fetch(address):
    if address.startswith('http://'):
        return urllib.request.urlopen(address).read().decode('utf8', 'ignore')
    if ':' in address:
        host, port = address.rsplit(':', 1)
        family, addr = socket.AF_INET, (host, int(port))
    elif address.startswith('@'):
        family, addr = socket.AF_UNIX, '\0' + address[1:]
    else:
        family, addr = socket.AF_UNIX, address
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(addr)
    js = ''
    while True:
        data = s.recv(4096)
        if len(data) < 1:
            break
        js += data.decode('utf8', 'ignore')
    s.close()
    return js


def is_int(v):
    return type(v) is int


def check(dd, errors):
    """Every key uwsgitop reads, with the type it needs."""
    def need(obj, key, pred, where, what):
        if key not in obj:
            errors.append('%s: missing "%s"' % (where, key))
        elif not pred(obj[key]):
            errors.append('%s: "%s" is %r, want %s' % (where, key, obj[key], what))
    need(dd, 'version', lambda v: type(v) is str, 'top', 'a string')
    for k in ('listen_queue', 'uid', 'gid', 'pid'):
        need(dd, k, is_int, 'top', 'an int')
    need(dd, 'cwd', lambda v: type(v) is str, 'top', 'a string')
    need(dd, 'workers', lambda v: type(v) is list, 'top', 'a list')
    for w in dd.get('workers', []):
        where = 'worker %r' % w.get('id')
        for k in ('id', 'pid', 'requests', 'exceptions', 'tx', 'running_time', 'last_spawn',
                  'avg_rt', 'rss', 'vsz', 'respawn_count', 'harakiri_count', 'signals'):
            need(w, k, is_int, where, 'an int')
        need(w, 'status', lambda v: type(v) is str, where, 'a string')
        need(w, 'cores', lambda v: type(v) is list, where, 'a list')
        for c in w.get('cores', []):
            cw = '%s core %r' % (where, c.get('id'))
            for k in ('id', 'requests', 'in_request'):
                need(c, k, is_int, cw, 'an int')
            need(c, 'vars', lambda v: type(v) is list and all(type(x) is str for x in v), cw, 'a list of strings')
            need(c, 'req_info', lambda v: type(v) is dict, cw, 'an object')
            if c.get('in_request') and (not c.get('vars') or c['vars'][-1] != ''):
                errors.append('%s: in a request but vars %r do not end with ""' % (cw, c.get('vars')))


def human_size(n):
    for unit, size in (('G', 1 << 30), ('M', 1 << 20), ('K', 1 << 10)):
        if n >= size:
            return '%.1f%s' % (n / size, unit)
    return '%d' % n


class Top:
    """uwsgitop's display state and one screen per poll."""

    def __init__(self, screen, host):
        self.screen = screen
        self.host = host
        self.last_time = time.time()
        self.last_req = collections.defaultdict(int)
        self.last_core_req = collections.defaultdict(int)

    def render(self, dd, show_cores):
        scr = self.screen
        scr.clear()
        uversion = '-' + dd['version'] if 'version' in dd else ''
        dd.setdefault('listen_queue', 0)
        cwd = '- cwd: %s' % dd['cwd'] if 'cwd' in dd else ''
        uid = '- uid: %d' % dd['uid'] if 'uid' in dd else ''
        gid = '- gid: %d' % dd['gid'] if 'gid' in dd else ''
        mpid = '- masterpid: %d' % dd['pid'] if 'pid' in dd else ''
        scr.addstr(1, 0, 'node: %s %s %s %s %s' % (self.host, cwd, uid, gid, mpid))

        workers = dd['workers']
        tot = sum(w['requests'] for w in workers)
        dt = time.time() - self.last_time
        rps, core_rps, cores = {}, {}, collections.defaultdict(list)
        total_rps = 0
        for w in workers:
            wid = w['id']
            rps[wid] = (w['requests'] - self.last_req[wid]) / dt
            total_rps += rps[wid]
            self.last_req[wid] = w['requests']
            if not show_cores:
                continue
            for c in w.get('cores', []):
                if not c['requests']:
                    continue  # uwsgitop ignores unused cores
                key = (wid, c['id'])
                core_rps[key] = (c['requests'] - self.last_core_req[key]) / dt
                self.last_core_req[key] = c['requests']
                cores[wid].append(c)
            cores[wid].sort(key=lambda c: c['requests'])
        self.last_time = time.time()

        tx = human_size(sum(w['tx'] for w in workers))
        scr.addstr(0, 0, 'uwsgi%s - %s - req: %d - RPS: %d - lq: %d - tx: %s' % (
            uversion, time.ctime(), tot, int(round(total_rps)), dd['listen_queue'], tx))
        scr.addstr(2, 0, ' WID\t%\tPID\tREQ\tRPS\tEXC\tSIG\tSTATUS\tAVG\tRSS\tVSZ\tTX\tReSpwn\tHC\tRunT\tLastSpwn',
                   curses.A_REVERSE)
        pos = 3
        for w in sorted(workers, key=lambda w: w['requests'], reverse=True):
            runt = w['running_time'] / 1000
            runt = '%sm' % str(runt / (1000 * 60)) if runt > 9999999 else str(runt)
            last = time.strftime('%H:%M:%S', time.localtime(w['last_spawn'])) if w['last_spawn'] else '--:--:--'
            color = curses.color_pair(0)
            status = w['status']
            if status == 'busy':
                color = curses.color_pair(1)
            elif status == 'cheap':
                color = curses.color_pair(2)
            elif status.startswith('sig'):
                color = curses.color_pair(4)
            elif status == 'pause':
                color = curses.color_pair(5)
            pct = 100.0 * w['requests'] / tot if tot else 0.0
            # uwsgitop wraps this addstr in try/except; here a failure is
            # an error, because a row must render.
            scr.addstr(pos, 0, ' %s\t%.1f\t%d\t%d\t%d\t%d\t%d\t%s\t%dms\t%s\t%s\t%s\t%s\t%s\t%s\t%s' % (
                w['id'], pct, w['pid'], w['requests'], int(round(rps[w['id']])), w['exceptions'],
                w.get('signals', 0), status, w['avg_rt'] / 1000, human_size(w['rss']),
                human_size(w['vsz']), human_size(w['tx']), w['respawn_count'], w['harakiri_count'],
                runt, last), color)
            pos += 1
            for c in cores[w['id']]:
                cstatus = 'busy' if c['in_request'] else 'idle'
                cpct = 100.0 * c['requests'] / tot if tot else 0.0
                scr.addstr(pos, 0, '  :%s\t%.1f\t-\t%d\t%d\t-\t-\t%s\t-\t-\t-\t-\t-' % (
                    c['id'], cpct, c['requests'], int(round(core_rps[w['id'], c['id']])), cstatus))
                pos += 1
        scr.refresh()
        return [scr.instr(y, 0).decode('utf8', 'replace').rstrip() for y in range(pos)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--polls', type=int, default=2)
    ap.add_argument('--interval', type=float, default=0.05)
    ap.add_argument('address')
    args = ap.parse_args()

    if args.address.startswith('http://'):
        host = args.address.split('//')[1].split(':')[0]
    elif ':' in args.address:
        host = args.address.rsplit(':', 1)[0]
    else:
        host = socket.gethostname()

    # curses needs a terminal: give it a pseudo-terminal, and keep a copy of
    # the real stdout for the report.
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', ROWS, COLS, 0, 0))

    def drain():
        while True:
            try:
                if not os.read(master, 65536):
                    return
            except OSError:
                return
    threading.Thread(target=drain, daemon=True).start()
    report_fd = os.dup(1)
    os.dup2(slave, 0)
    os.dup2(slave, 1)
    os.environ['TERM'] = 'xterm'

    report = {'polls': [], 'errors': []}
    screen = curses.initscr()
    try:
        curses.noecho()
        curses.start_color()
        curses.use_default_colors()
        for i, fg in enumerate((curses.COLOR_GREEN, curses.COLOR_MAGENTA, curses.COLOR_RED,
                                curses.COLOR_YELLOW, curses.COLOR_BLUE), 1):
            curses.init_pair(i, fg, -1)
        top = Top(screen, host)
        for i in range(args.polls):
            if i:
                time.sleep(args.interval)
            try:
                js = fetch(args.address)
            except IOError as e:
                if e.errno == errno.EINTR:
                    continue
                raise Exception('unable to get uWSGI statistics: %s' % e)
            try:
                dd = json.loads(js)
            except json.JSONDecodeError as e:
                # uwsgitop retries silently; a test wants to know.
                report['errors'].append('poll %d: json.loads: %s' % (i, e))
                continue
            check(dd, report['errors'])
            lines = top.render(dd, show_cores=True)
            report['polls'].append({'lines': lines, 'workers': len(dd['workers'])})
    except Exception as e:
        report['errors'].append('%s: %s' % (type(e).__name__, e))
    finally:
        curses.endwin()
    os.write(report_fd, (json.dumps(report) + '\n').encode())
    sys.exit(1 if report['errors'] else 0)


main()
