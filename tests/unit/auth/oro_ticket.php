<?php
// An independent maker of Oro WebSocket tickets, for wampd's tests: PHP's own hash(), the way
// Symfony's MessageDigestPasswordHasher (sha512, 5000 iterations, base64) and Oro's
// TicketProvider use it. Written from the algorithm's description, not from wampd's code.
//
//   php oro_ticket.php ticket SECRET USERNAME PASSWORD CREATED_EPOCH [TIMEZONE [NONCE]]
//       base64("digest;username;nonce;created"), created = date('c') at CREATED_EPOCH in
//       TIMEZONE (default UTC). An empty USERNAME makes an anonymous ticket: the secret is
//       the password, PASSWORD is ignored.
//   php oro_ticket.php digest NONCE CREATED PASSWORD SECRET
//       the digest alone.
//   php oro_ticket.php hmac KEY MESSAGE
//       hex HMAC-SHA256(KEY, MESSAGE).

function hasher_merge(string $password, string $salt): string
{
    // Symfony: an empty salt leaves the password alone; otherwise "password{salt}".
    return $salt === '' ? $password : $password . '{' . $salt . '}';
}

function hasher_hash(string $raw, string $salt): string
{
    $salted = hasher_merge($raw, $salt);
    $digest = hash('sha512', $salted, true);
    for ($i = 1; $i < 5000; $i++) {
        $digest = hash('sha512', $digest . $salted, true);
    }
    return base64_encode($digest);
}

function ticket_digest(string $nonce, string $created, string $password, string $secret): string
{
    return hasher_hash(sprintf('%s|%s|%s', $nonce, $created, $password), $secret);
}

function usage(): void
{
    fwrite(STDERR, "usage: php oro_ticket.php ticket|digest|hmac ...\n");
    exit(2);
}

$mode = $argv[1] ?? '';
if ($mode === 'ticket' && ($argc === 6 || $argc === 7 || $argc === 8)) {
    [, , $secret, $username, $password, $created] = $argv;
    date_default_timezone_set($argv[6] ?? 'UTC');
    $created = date('c', (int) $created);
    // Oro's nonce: 16 hex digits of an md5 of something unique.
    $nonce = $argv[7] ?? substr(md5(uniqid(gethostname() . '_', true)), 0, 16);
    if ($username === '') {
        $password = $secret;
    }
    $digest = ticket_digest($nonce, $created, $password, $secret);
    echo base64_encode(sprintf('%s;%s;%s;%s', $digest, $username, $nonce, $created)), "\n";
} elseif ($mode === 'digest' && $argc === 6) {
    echo ticket_digest($argv[2], $argv[3], $argv[4], $argv[5]), "\n";
} elseif ($mode === 'hmac' && $argc === 4) {
    echo hash_hmac('sha256', $argv[3], $argv[2]), "\n";
} else {
    usage();
}
