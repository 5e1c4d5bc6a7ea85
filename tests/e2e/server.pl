#!/usr/bin/perl
# Stand-in release for tests/e2e/e2e.sh: a tiny HTTP server (perl-base only, which every Debian
# has) that answers every request with the service name, the user it runs as and the path, and on
# .../db reports what its DATABASE_URL reaches (psql as a child process). Every request is logged
# to shared/logs/SERVICE.log, and .../write?to=WHERE tries to write a file (uploads, the release,
# /etc) so the tests see what the sandbox lets the app write. The attacks a compromised app
# would try are endpoints too, so they run inside the real unit's sandbox: .../bind?port=N binds
# another port, .../plant plants symlinks where root once opened files, .../headers shows the
# proxy headers the app received. .../ws with `Upgrade: websocket` answers 101 and echoes lines.
# .../healthz answers 500 when the release holds a file `unhealthy` (or `unhealthy-on-PORT`, PORT
# being the port it listens on). A release holding `slow-start` listens 2 s after it starts.
# With METRICS_PORT set (`separate_metrics_port`), a child answers /metrics there and 404 to
# anything else, and /metrics on PORT is an ordinary page.
#   perl server.pl SERVICE        listens on 127.0.0.1:$PORT
#   perl server.pl job|fail       runs once, as a scheduled job
#   perl server.pl release        runs once, as the release phase
use strict;
use warnings;
use IO::Socket::INET;

my $service = $ARGV[0] // 'app';
my $user = getpwuid($<) // $<;
# As a scheduled job: `job` leaves a file in the state directory saying who ran it and where,
# `fail` exits 1.
if ($service eq 'job') {
    open my $out, '>', "$ENV{STATE_DIRECTORY}/job-ran" or die "job: $!\n";
    print $out "user=$user port=" . ($ENV{PORT} // '-') . "\n";
    close $out;
    exit 0;
}
exit 1 if $service eq 'fail';
# As the release phase: records who ran it, where, and whether it reached the database; fails
# in a release holding a file `release-fails`.
if ($service eq 'release') {
    exit 1 if -e 'release-fails';
    my $cwd = readlink('/proc/self/cwd') // '?';
    open my $out, '>>', "$ENV{STATE_DIRECTORY}/release-ran" or die "release: $!\n";
    print $out "user=$user cwd=$cwd db=" . ($ENV{DATABASE_URL} ? 'yes' : 'no') . "\n";
    close $out;
    exit 0;
}
my $port = $ENV{PORT} or die "PORT is not set\n";
sleep 2 if -e 'slow-start';
my $server = IO::Socket::INET->new(
    LocalAddr => '127.0.0.1', LocalPort => $port, Listen => 64, ReuseAddr => 1, Proto => 'tcp',
) or die "listen 127.0.0.1:$port: $!\n";
$SIG{CHLD} = 'DEFAULT';
my $metrics_port = $ENV{METRICS_PORT};
if ($metrics_port && !fork) {
    close $server;
    my $metrics = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1', LocalPort => $metrics_port, Listen => 16, ReuseAddr => 1, Proto => 'tcp',
    ) or die "listen 127.0.0.1:$metrics_port: $!\n";
    # Gone with the service: systemd stops the whole unit's cgroup.
    while (my $client = $metrics->accept) {
        my $request = <$client> // '';
        while (my $line = <$client>) { last if $line =~ /^\r?\n$/; }
        my $found = $request =~ m{^GET /metrics };
        my $body = $found ? "# TYPE e2e_up gauge\ne2e_up{service=\"$service\",user=\"$user\",port=\"metrics\"} 1\n" : "not here\n";
        print $client "HTTP/1.1 " . ($found ? '200 OK' : '404 Not Found') . "\r\nContent-Type: text/plain\r\nContent-Length: " . length($body) . "\r\nConnection: close\r\n\r\n$body";
        close $client;
    }
    exit 0;
}
while (my $client = $server->accept) {
    my $request = <$client> // '';
    my %header;
    while (my $line = <$client>) {
        last if $line =~ /^\r?\n$/;
        $header{lc $1} = $2 if $line =~ /^([^:]+):\s*(.*?)\r?$/;
    }
    my (undef, $path) = split / /, $request;
    $path //= '/';
    if ($path =~ m{/ws$} && lc($header{upgrade} // '') eq 'websocket') {
        # An upgraded connection (101), then a line echo in a child: enough for nginx to tunnel
        # it, and the test sees how long nginx keeps an idle one open.
        if (!fork) {
            close $server;
            $client->autoflush(1);
            print $client "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
            while (my $line = <$client>) { print $client "echo $line"; }
            exit 0;
        }
        close $client;
        next;
    }
    my $body = "service=$service user=$user path=$path\n";
    # Prometheus's text format, for `metrics = "/metrics"`.
    $body = "# TYPE e2e_up gauge\ne2e_up{service=\"$service\",user=\"$user\"} 1\n" if $path eq '/metrics' && !$metrics_port;
    if (open my $log, '>>', "/srv/sites/$user/shared/logs/$service.log") {
        print $log "$path\n";
        close $log;
    }
    if ($path =~ m{/write\?to=(\w+)$}) {
        my %target = (
            uploads => "/srv/sites/$user/shared/uploads/probe-$service.txt",
            release => "/srv/sites/$user/current/probe-$service.txt",
            etc     => "/etc/probe-$service.txt",
        );
        my $file = $target{$1} // '/nonexistent/x';
        my $fh;
        my $ok = open($fh, '>', $file) && print($fh "x\n") && close($fh);
        $body .= "write $1=" . ($ok ? 'ok' : 'denied') . "\n";
    }
    if ($path =~ m{/headers$}) {
        $body .= join('', map { "$_=" . ($header{$_} // '-') . "\n" } qw(x-forwarded-for x-real-ip upgrade connection));
    }
    if ($path =~ m{/bind\?port=(\d+)$}) {
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $1, Listen => 1, ReuseAddr => 1);
        $body .= "bind $1=" . ($s ? 'ok' : "denied ($!)") . "\n";
        close $s if $s;
    }
    if ($path =~ m{/squat\?port=(\d+)$}) {
        # Another site's port, taken while that site's service is down: a child listens there
        # for up to 60 s and answers every connection with "squatted by USER" (Prometheus may
        # scrape the port meanwhile) until a request for /squat-end.
        my $port = $1;
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port, Listen => 5, ReuseAddr => 1);
        if ($s && !fork) {
            close $server;
            local $SIG{ALRM} = sub { exit 0 };
            alarm 60;
            while (my $c = $s->accept) {
                my $line = <$c> // '';
                my $b = "squatted by $user\n";
                print $c "HTTP/1.1 200 OK\r\nContent-Length: " . length($b) . "\r\nConnection: close\r\n\r\n$b";
                close $c;
                exit 0 if $line =~ m{^GET /squat-end };
            }
            exit 0;
        }
        $body .= "squat $port=" . ($s ? 'listening' : "denied ($!)") . "\n";
        close $s if $s;
    }
    if ($path =~ m{/plant$}) {
        # CVE-2016-1247 style: swap the directory nginx's master (root) once opened logs in for
        # one of symlinks to a file root must never write; then try nginx's real log directory
        # and the root-owned shared/.
        my $logs = "/srv/sites/$user/shared/logs";
        rename "$logs/nginx", "$logs/nginx.moved-$$";
        mkdir "$logs/nginx";
        symlink '/etc/ld.so.preload', "$logs/nginx/$_" for qw(access.log error.log);
        $body .= 'shared-logs=' . (-l "$logs/nginx/access.log" ? 'planted' : 'denied') . "\n";
        my $dir = "/var/log/nginx/$user";
        $body .= 'nginx-logs=' . (symlink('/etc/ld.so.preload', "$dir/planted.log") ? 'planted' : 'denied') . "\n";
        $body .= 'nginx-logs-rename=' . (rename("$dir/access.log", "$dir/moved.log") ? 'done' : 'denied') . "\n";
        $body .= 'env-rename=' . (rename("/srv/sites/$user/shared/.env", "/srv/sites/$user/shared/moved") ? 'done' : 'denied') . "\n";
        $body .= 'shared-symlink=' . (symlink('/etc/shadow', "/srv/sites/$user/shared/planted") ? 'planted' : 'denied') . "\n";
    }
    if ($path =~ m{/sqlite$}) {
        # database = "sqlite": one more row in the site's database file, as the site user.
        my $sql = "CREATE TABLE IF NOT EXISTS hits(n INTEGER); INSERT INTO hits VALUES (1); SELECT 'rows=' || count(*) FROM hits;";
        my $out = '';
        if (open my $fh, '-|', 'sqlite3', $ENV{SQLITE_PATH} // '/nonexistent', $sql) {
            local $/;
            $out = <$fh> // '';
            close $fh;
        }
        $out =~ s/\s+$//;
        $body .= "$out\nurl=" . ($ENV{DATABASE_URL} // '-') . "\n";
    }
    if ($path =~ m{/db(?:\?(.*))?$}) {
        my $query = $1 // '';
        # ?other=NAME: try another database with this site's credentials.
        # The credentials go to psql through its environment, not its argv (visible in ps).
        my ($u, $pw, $h, $p, $db) =
            ($ENV{DATABASE_URL} // '') =~ m{^postgresql://([^:]+):([^@]*)@([^:/]+):(\d+)/([\w-]+)$};
        $db = $1 if $query =~ /^other=(\w+)$/;
        local @ENV{qw(PGUSER PGPASSWORD PGHOST PGPORT PGDATABASE)} = ($u, $pw, $h, $p, $db);
        my $out = qx{psql -X -At -c "SELECT 'db=' || current_user || '\@' || current_database()" 2>&1};
        $out =~ s/\s+$//;
        $body .= "$out\n";
    }
    # A release shipped with a file `unhealthy` fails its health check (blueprint-deploy's gate).
    my $unhealthy = -e 'unhealthy' || -e "unhealthy-on-$port";
    my $status = ($path =~ m{healthz$} && $unhealthy) ? '500 Internal Server Error' : '200 OK';
    print $client "HTTP/1.1 $status\r\nContent-Type: text/plain\r\nContent-Length: "
        . length($body) . "\r\nConnection: close\r\n\r\n$body";
    close $client;
}
