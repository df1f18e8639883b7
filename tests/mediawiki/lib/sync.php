<?php
/**
 * Harness helper run by setup.sh (a maintenance script living outside $IP).
 *
 *   php lib/sync.php --check DIR    DIR/index.tsv lists "title<TAB>file"; prints the titles whose
 *                                   current wiki text differs from the file (or that are missing)
 *   php lib/sync.php --enable-gadgets=a,b,c --user=Admin
 *                                   sets gadget-a=1 ... with the UserOptionsManager (not
 *                                   userOptions.php) and saves only if something changed
 */
use MediaWiki\MediaWikiServices;

$IP = getenv( 'MW_INSTALL_PATH' ) ?: '/usr/share/mediawiki';
require_once "$IP/maintenance/Maintenance.php";

class TprSync extends Maintenance {
	public function __construct() {
		parent::__construct();
		$this->addOption( 'check', 'Directory with index.tsv of pages to compare', false, true );
		$this->addOption( 'enable-gadgets', 'Comma-separated gadget names to enable', false, true );
		$this->addOption( 'user', 'User for --enable-gadgets', false, true );
	}

	public function execute() {
		if ( $this->hasOption( 'check' ) ) {
			$this->check( $this->getOption( 'check' ) );
		}
		if ( $this->hasOption( 'enable-gadgets' ) ) {
			$this->enableGadgets( $this->getOption( 'user', 'Admin' ),
				array_filter( explode( ',', $this->getOption( 'enable-gadgets' ) ) ) );
		}
	}

	private static function norm( $text ) {
		return rtrim( str_replace( "\r\n", "\n", $text ) );
	}

	private function check( $dir ) {
		$factory = MediaWikiServices::getInstance()->getWikiPageFactory();
		foreach ( file( "$dir/index.tsv", FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES ) as $line ) {
			list( $titleText, $file ) = explode( "\t", $line );
			$title = Title::newFromText( $titleText );
			$want = self::norm( file_get_contents( "$dir/$file" ) );
			$content = $title && $title->exists() ? $factory->newFromTitle( $title )->getContent() : null;
			$have = $content instanceof TextContent ? self::norm( $content->getText() ) : null;
			if ( $have !== $want ) {
				$this->output( "$titleText\n" );
			}
		}
	}

	private function enableGadgets( $userName, array $gadgets ) {
		$user = User::newFromName( $userName );
		if ( !$user || !$user->isRegistered() ) {
			$this->fatalError( "no such user: $userName" );
		}
		$mgr = MediaWikiServices::getInstance()->getUserOptionsManager();
		$changed = [];
		foreach ( $gadgets as $g ) {
			if ( (string)$mgr->getOption( $user, "gadget-$g" ) !== '1' ) {
				$mgr->setOption( $user, "gadget-$g", 1 );
				$changed[] = $g;
			}
		}
		if ( $changed ) {
			$mgr->saveOptions( $user );
			$this->output( "enabled for $userName: " . implode( ', ', $changed ) . "\n" );
		}
	}
}

$maintClass = TprSync::class;
require_once RUN_MAINTENANCE_IF_MAIN;
